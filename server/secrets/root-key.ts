import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const ROOT_KEY_ENV = 'PORTCULLIS_ROOT_KEY';
const KEY_BYTES = 32;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface LoadRootKeyOptions {
  /** Value of PORTCULLIS_ROOT_KEY (base64 of 32 bytes); wins over the file when set and not empty. */
  env?: string;
  /** The key file (base64 of 32 bytes), created with mode 0600 on first start when absent. */
  keyFile: string;
}

function parseKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  // The message never repeats the value: it is, or is meant to be, the key.
  const fix = `it must be the base64 of ${KEY_BYTES} random bytes, e.g. from: openssl rand -base64 ${KEY_BYTES}`;
  if (!STRICT_BASE64.test(trimmed)) throw new Error(`the root key in ${source} is not valid base64; ${fix}`);
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`the root key in ${source} is ${key.length} bytes, not ${KEY_BYTES}; ${fix}`);
  return key;
}

/**
 * The root key that wraps every project's data key: from `env` when set, else from `keyFile`, which is created
 * (mode 0600) when it does not exist. Refuses a key file that group or others can read or write, and a
 * malformed key, with a message that says how to fix it.
 */
export function loadRootKey(options: LoadRootKeyOptions): Buffer {
  if (options.env !== undefined && options.env.trim() !== '') return parseKey(options.env, `the environment variable ${ROOT_KEY_ENV}`);
  const file = options.keyFile;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read the root key file ${file}: ${(error as Error).message}`, { cause: error });
    }
    return createKeyFile(file);
  }
  try {
    const mode = fstatSync(fd).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(
        `the root key file ${file} has mode ${mode.toString(8).padStart(4, '0')}, so other users can read it; ` +
          `restrict it with: chmod 600 ${file} (and rotate the key if others may have read it)`,
      );
    }
    return parseKey(readFileSync(fd, 'utf8'), `the file ${file}`);
  } finally {
    closeSync(fd);
  }
}

function createKeyFile(file: string): Buffer {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  // Written whole to a private temp file, then linked into place: link never replaces an existing file, so a key
  // that another process created meanwhile wins (losing a key loses every secret), and no reader sees half a key.
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadRootKey({ keyFile: file });
    throw new Error(`cannot create the root key file ${file}: ${(error as Error).message}`, { cause: error });
  } finally {
    rmSync(temp, { force: true });
  }
  return key;
}
