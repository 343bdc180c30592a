/**
 * `--output table|json` for listings and show commands. JSON goes to stdout as one document (or one line per
 * event for `access`); people get tables.
 */
import { type Command, Option } from 'commander';

export const OUTPUT_FORMATS = Object.freeze(['table', 'json'] as const);
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function addOutputOption(command: Command): Command {
  return command.addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'));
}

export function printJson(value: unknown, options: { compact?: boolean } = {}): void {
  process.stdout.write(`${JSON.stringify(value, null, options.compact ? undefined : 2)}\n`);
}

export function printText(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Progress and hints for people: stderr, so that stdout stays parseable. */
export function printStatus(text: string): void {
  process.stderr.write(`${text}\n`);
}
