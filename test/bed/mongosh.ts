import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface MongoshResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

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
  return new Promise((resolve, reject) => {
    const child = spawn(MONGOSH_BIN, [uri, '--quiet', '--norc', ...(options.extraArgs ?? []), '--eval', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MONGOSH_NO_UPDATE_CHECK: '1', DO_NOT_TRACK: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}
