/**
 * The OS keychain through @napi-rs/keyring (macOS Keychain, Windows Credential Manager, Secret Service on Linux).
 * Each call runs in a short-lived child process with a hard time limit: a keychain that waits for an unlock
 * dialog or a D-Bus service that never answers must not hang the command. The secret travels over the child's
 * stdin/stdout, never its arguments.
 */
import { spawnSync } from 'node:child_process';

const SERVICE = 'portcullis';
const DEFAULT_TIME_LIMIT_MS = 5_000;

function timeLimitMs(): number {
  const fromEnv = Number(process.env.PORTCULLIS_KEYCHAIN_TIMEOUT_MS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_TIME_LIMIT_MS;
}

export type KeychainResult<T> = { ok: true; value: T } | { ok: false; reason: string };

// Runs inside the child: one keyring operation described by the JSON on stdin.
const CHILD_SCRIPT = `
const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
let result;
try {
  const { Entry } = require(input.modulePath);
  // On Linux only the Secret Service persists; the kernel keyring forgets the token at logout.
  const options = process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined;
  const entry = new Entry(input.service, input.account, options);
  if (input.op === 'get') result = { ok: true, value: entry.getPassword() ?? null };
  else if (input.op === 'set') { entry.setPassword(input.secret); result = { ok: true, value: true }; }
  else result = { ok: true, value: entry.deletePassword() };
} catch (error) {
  result = { ok: false, reason: String((error && error.message) || error) };
}
process.stdout.write(JSON.stringify(result));
`;

function keyringModulePath(): string | undefined {
  try {
    return require.resolve('@napi-rs/keyring');
  } catch {
    return undefined;
  }
}

function run<T>(op: 'get' | 'set' | 'delete', account: string, secret?: string): KeychainResult<T> {
  if (process.env.PORTCULLIS_KEYCHAIN === 'off') return { ok: false, reason: 'turned off by PORTCULLIS_KEYCHAIN=off' };
  const modulePath = keyringModulePath();
  if (!modulePath) return { ok: false, reason: 'the keyring module is not installed' };
  if (process.platform === 'linux' && !process.env.DBUS_SESSION_BUS_ADDRESS) {
    return { ok: false, reason: 'no D-Bus session, so no Secret Service' };
  }
  const limit = timeLimitMs();
  const child = spawnSync(process.execPath, ['-e', CHILD_SCRIPT], {
    input: JSON.stringify({ op, service: SERVICE, account, secret, modulePath }),
    timeout: limit,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    windowsHide: true,
  });
  if (child.error) {
    const timedOut = (child.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    return { ok: false, reason: timedOut ? `the keychain did not answer within ${limit / 1000} s` : child.error.message };
  }
  try {
    return JSON.parse(child.stdout) as KeychainResult<T>;
  } catch {
    return { ok: false, reason: `the keychain helper failed (exit ${child.status})` };
  }
}

export function keychainGet(account: string): KeychainResult<string | null> {
  return run<string | null>('get', account);
}

export function keychainSet(account: string, secret: string): KeychainResult<boolean> {
  return run<boolean>('set', account, secret);
}

export function keychainDelete(account: string): KeychainResult<boolean> {
  return run<boolean>('delete', account);
}
