/**
 * Asking the user for input. Prompts go to stderr so stdout stays clean for `--output json`. Secrets are read
 * with echo off from the terminal, or from standard input when the caller chose `--password-stdin`.
 */
import { createInterface, type Interface } from 'node:readline';
import { CliError } from '../errors';
import { EXIT_CODES } from '../exit-codes';

let lines: { rl: Interface; queue: string[]; waiters: ((line: string | undefined) => void)[]; closed: boolean } | undefined;

// One reader for the whole process: several prompts may read consecutive lines from a pipe.
function lineSource() {
  if (lines) return lines;
  const rl = createInterface({ input: process.stdin, terminal: false });
  const state = { rl, queue: [] as string[], waiters: [] as ((line: string | undefined) => void)[], closed: false };
  rl.on('line', (line) => {
    const waiter = state.waiters.shift();
    if (waiter) waiter(line);
    else state.queue.push(line);
  });
  rl.on('close', () => {
    state.closed = true;
    for (const waiter of state.waiters.splice(0)) waiter(undefined);
  });
  lines = state;
  return state;
}

function nextLine(): Promise<string | undefined> {
  const source = lineSource();
  const queued = source.queue.shift();
  if (queued !== undefined) return Promise.resolve(queued);
  if (source.closed) return Promise.resolve(undefined);
  source.rl.resume();
  return new Promise((resolve) => source.waiters.push(resolve));
}

/** Stops reading standard input so the process can exit. */
export function closePrompts(): void {
  lines?.rl.close();
  lines = undefined;
}

/** Asks for one visible line (an email, an MFA code). Returns undefined at end of input. */
export async function askLine(question: string): Promise<string | undefined> {
  process.stderr.write(question);
  const line = await nextLine();
  if (line === undefined && process.stdin.isTTY) process.stderr.write('\n');
  return line?.trim();
}

/** Asks for a secret on the terminal without echoing it. */
export function askHidden(question: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    return Promise.reject(
      new CliError('cannot ask for a password: standard input is not a terminal; pipe the password in and add --password-stdin'),
    );
  }
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    const finish = (error?: Error) => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003') return finish(new CliError('cancelled', EXIT_CODES.interrupted));
        if (char === '\u0004') return finish();
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else if (char >= ' ') value += char;
      }
    };
    input.on('data', onData);
  });
}

/**
 * Reads a secret piped to standard input (`--password-stdin`): the first line, without its line ending.
 * Only the first line counts so that `echo secret | portcullis ...` and a file with a trailing newline both work.
 */
export async function readSecretFromStdin(what: string): Promise<string> {
  if (process.stdin.isTTY) {
    throw new CliError(`--password-stdin expects the ${what} piped in (e.g. printf '%s' "$PW" | portcullis ...); leave it out to be asked`);
  }
  const line = await nextLine();
  if (line === undefined || line === '') throw new CliError(`no ${what} on standard input (it was empty)`);
  return line;
}
