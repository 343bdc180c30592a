/**
 * Plain-text tables for people: a header row, columns padded to their widest cell, long cells cut with an
 * ellipsis so one wide value does not wrap every line.
 */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
  align?: 'left' | 'right';
  /** Cells longer than this are cut. */
  maxWidth?: number;
}

export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((column) => cellText(column.value(row), column.maxWidth)));
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

function cellText(value: string | number | boolean | null | undefined, maxWidth?: number): string {
  let text: string;
  if (value === null || value === undefined || value === '') text = '-';
  else if (typeof value === 'boolean') text = value ? 'yes' : 'no';
  else text = String(value).replace(/\s+/g, ' ');
  if (maxWidth !== undefined && text.length > maxWidth) text = `${text.slice(0, Math.max(1, maxWidth - 1))}…`;
  return text;
}
