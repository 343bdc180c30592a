/**
 * Plain-text tables for people: a header row, columns padded to their widest cell, long cells cut with an
 * ellipsis so one wide value does not wrap every line. Cells hold what users and the server sent (names, log
 * text), so every cell is escaped here, once: callers pass raw values.
 */
import { displayJson, displayText } from '../../proxy-core/display-text';

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
  align?: 'left' | 'right';
  /** Cells longer than this are cut. */
  maxWidth?: number;
  /**
   * The cell is JSON text (a command's input): escaped the JSON way, so a name's `\u001b` reads as the JSON it is
   * instead of gaining a second backslash.
   */
  json?: boolean;
}

export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((column) => cellText(column.value(row), column.maxWidth, column.json)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => (columns[i].align === 'right' ? value.padStart(widths[i]) : value.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Label/value pairs, one per line, for `show` commands. */
export function renderFields(fields: readonly [string, string | number | boolean | null | undefined][]): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width + 1)}  ${cellText(value)}`).join('\n');
}

function cellText(value: string | number | boolean | null | undefined, maxWidth?: number, json = false): string {
  let text: string;
  if (value === null || value === undefined || value === '') text = '-';
  else if (typeof value === 'boolean') text = value ? 'yes' : 'no';
  // Escaped before cutting, so the width counts what is shown; line breaks show as \n instead of breaking the row.
  else text = json ? displayJson(String(value)) : displayText(String(value));
  if (maxWidth !== undefined && text.length > maxWidth) text = `${text.slice(0, Math.max(1, maxWidth - 1))}…`;
  return text;
}
