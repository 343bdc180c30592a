/**
 * `--output table|json` for listings and show commands. JSON goes to stdout as one document (or one line per
 * event for `access`); people get tables.
 */
import { type Command, Option } from 'commander';
import { displayJson } from '../../proxy-core/display-text';

export const OUTPUT_FORMATS = Object.freeze(['table', 'json'] as const);
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function addOutputOption(command: Command): Command {
  return command.addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'));
}

/**
 * JSON.stringify escapes C0 controls such as ESC but leaves DEL, C1 and bidi characters raw inside strings;
 * displayJson writes those as \uXXXX too, so the output is the same JSON value and safe on a terminal. Line by
 * line because the newlines of pretty-printing are the only raw ones (JSON.stringify escapes those in strings).
 */
export function printJson(value: unknown, options: { compact?: boolean } = {}): void {
  const json = JSON.stringify(value, null, options.compact ? undefined : 2);
  process.stdout.write(`${json.split('\n').map(displayJson).join('\n')}\n`);
}

export function printText(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Progress and hints for people: stderr, so that stdout stays parseable. */
export function printStatus(text: string): void {
  process.stderr.write(`${text}\n`);
}
