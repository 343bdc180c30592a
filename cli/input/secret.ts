import { CliError } from '../errors';
import { askHidden, readSecretFromStdin } from './prompt';

/**
 * A password for the CLI: from standard input with `--password-stdin`, else a hidden prompt (asked twice when
 * it sets a new password, so a typo does not lock anyone out).
 */
export async function obtainSecret(options: { fromStdin: boolean; what: string; confirm?: boolean }): Promise<string> {
  if (options.fromStdin) return readSecretFromStdin(options.what);
  const first = await askHidden(`${capitalize(options.what)}: `);
  if (first === '') throw new CliError(`the ${options.what} is empty`);
  if (options.confirm) {
    const second = await askHidden(`${capitalize(options.what)} again: `);
    if (second !== first) throw new CliError(`the two ${options.what}s differ; nothing was changed, try again`);
  }
  return first;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
