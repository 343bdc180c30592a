import { join } from 'node:path';
import { type ProcessResult, runProcess } from './processes';

export type MongoshResult = ProcessResult;

export const MONGOSH_BIN = join(__dirname, '..', '..', 'node_modules', '.bin', 'mongosh');

/**
 * Runs the real mongosh (the npm dev dependency) against `uri` with `script` passed to --eval,
 * and returns its output and exit code. It never rejects on a non-zero exit: callers assert on it.
 */
export function runMongosh(
  uri: string,
  script: string,
  options: { timeoutMs?: number; extraArgs?: string[] } = {},
): Promise<MongoshResult> {
  return runProcess(MONGOSH_BIN, [uri, '--quiet', '--norc', ...(options.extraArgs ?? []), '--eval', script], {
    env: { ...process.env, MONGOSH_NO_UPDATE_CHECK: '1', DO_NOT_TRACK: '1' },
    timeoutMs: options.timeoutMs ?? 60_000,
  });
}
