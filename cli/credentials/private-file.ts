import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Writes a file only its owner can read (mode 0600): created with that mode under a temporary name, then
 * renamed over the target, so the secret is never readable by others even for a moment and a crash leaves the
 * old file intact.
 */
export function writePrivateFile(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // The umask cannot widen 0600, but an explicit chmod keeps the promise whatever created the folder.
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

/** Reads a private file, refusing one that others can read (someone may have copied it carelessly). */
export function readPrivateFile(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const mode = statSync(path).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new Error(`${path} can be read by other users (mode ${mode.toString(8)}); run chmod 600 ${path} and try again`);
  }
  return readFileSync(path, 'utf8');
}
