/**
 * config.json in the config folder: the server address and where the token is kept. No secrets here.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureConfigDir } from './config-dir';

export type TokenStoreKind = 'keychain' | 'file';

export interface CliConfig {
  server?: string;
  email?: string;
  tokenStore?: TokenStoreKind;
  /** Absolute path of the PEM file of the CA that issued the server's certificate (login --ca-file). */
  caFile?: string;
}

export function configPath(dir: string): string {
  return join(dir, 'config.json');
}

export function readConfig(dir: string): CliConfig {
  const path = configPath(dir);
  if (!existsSync(path)) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as CliConfig) : {};
  } catch {
    throw new Error(`${path} is not valid JSON; fix it or delete it and sign in again`);
  }
}

export function writeConfig(dir: string, config: CliConfig): void {
  ensureConfigDir(dir);
  writeFileSync(configPath(dir), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
