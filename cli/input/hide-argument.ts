/**
 * Takes a secret out of this process's command line as others see it (ps, /proc/<pid>/cmdline) once it has been
 * read. Setting process.title rewrites the memory that holds the original arguments (Linux and macOS), so the
 * command line then shows `***` in its place. Best effort: it was visible from the start of the process until
 * now, which is why giving a secret as an argument still gets a warning. Not on Windows, where process.title is
 * the console window's title.
 */
import { readFileSync } from 'node:fs';

export const HIDDEN = '***';

export function hideArgument(secret: string): void {
  if (process.platform === 'win32' || secret === '') return;
  const args = originalArguments();
  if (!args.some((arg) => arg.includes(secret))) return;
  process.title = args.map((arg) => arg.split(secret).join(HIDDEN)).join(' ');
}

/** The arguments the process was started with, node's own options included. */
function originalArguments(): string[] {
  try {
    const args = readFileSync('/proc/self/cmdline', 'utf8').split('\0');
    if (args.at(-1) === '') args.pop();
    return args;
  } catch {
    return [process.argv0, ...process.execArgv, ...process.argv.slice(1)];
  }
}
