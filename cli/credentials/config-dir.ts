import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** PORTCULLIS_CONFIG_DIR, else $XDG_CONFIG_HOME/portcullis, else ~/.config/portcullis. */
export function configDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PORTCULLIS_CONFIG_DIR) return env.PORTCULLIS_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'portcullis');
  return join(env.HOME || homedir(), '.config', 'portcullis');
}

/** Creates the folder readable by its owner only (it holds the token file when there is no keychain). */
export function ensureConfigDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
