/**
 * Where the CLI keeps its sign-in token: the OS keychain when one answers, else `token.json` (mode 0600) in the
 * config folder. config.json records which one holds it, so later commands do not probe the keychain again.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig, type TokenStoreKind, writeConfig } from './config-file';
import { keychainDelete, keychainGet, keychainSet } from './keychain';
import { readPrivateFile, writePrivateFile } from './private-file';

export interface StoredToken {
  server: string;
  token: string;
}

export interface SaveResult {
  store: TokenStoreKind;
  /** Where, in words, for the login message. */
  where: string;
  /** Why the keychain was not used, when it was not. */
  keychainProblem?: string;
}

interface TokenFile {
  server: string;
  token: string;
}

export function tokenFilePath(dir: string): string {
  return join(dir, 'token.json');
}

export function saveToken(dir: string, stored: StoredToken, options: { email?: string; caFile?: string } = {}): SaveResult {
  const config = readConfig(dir);
  const keychain = keychainSet(stored.server, stored.token);
  let result: SaveResult;
  if (keychain.ok) {
    // A token left in the file from an earlier sign-in must not outlive this one.
    rmSync(tokenFilePath(dir), { force: true });
    result = { store: 'keychain', where: 'the OS keychain' };
  } else {
    writePrivateFile(tokenFilePath(dir), `${JSON.stringify({ server: stored.server, token: stored.token } satisfies TokenFile)}\n`);
    result = {
      store: 'file',
      where: `${tokenFilePath(dir)} (readable only by you)`,
      keychainProblem: keychain.reason,
    };
  }
  writeConfig(dir, {
    ...config,
    server: stored.server,
    email: options.email ?? config.email,
    tokenStore: result.store,
    // Kept with the sign-in: a CA belongs to this server. A sign-in without --ca-file to another server drops it.
    caFile: options.caFile ?? (config.server === stored.server ? config.caFile : undefined),
  });
  return result;
}

export function loadToken(dir: string): StoredToken | undefined {
  const config = readConfig(dir);
  if (!config.server) return undefined;
  if (config.tokenStore === 'keychain') {
    const got = keychainGet(config.server);
    if (got.ok && got.value) return { server: config.server, token: got.value };
    return undefined;
  }
  const text = readPrivateFile(tokenFilePath(dir));
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as TokenFile;
    if (typeof parsed.token !== 'string' || parsed.server !== config.server) return undefined;
    return { server: parsed.server, token: parsed.token };
  } catch {
    return undefined;
  }
}

/** Forgets the token wherever it is; keeps the server address so the next login can default to it. */
export function forgetToken(dir: string): void {
  const config = readConfig(dir);
  if (config.tokenStore === 'keychain' && config.server) keychainDelete(config.server);
  if (existsSync(tokenFilePath(dir))) rmSync(tokenFilePath(dir), { force: true });
  if (config.server || config.tokenStore) writeConfig(dir, { server: config.server, email: config.email });
}
