import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Build caches (FerretDB, code-server) live outside the clone so CI and later runs reuse them,
 * keyed by version. PORTCULLIS_TEST_CACHE moves them (for example to prove a build from nothing).
 */
export function testCacheDir(...parts: string[]): string {
  const root = process.env.PORTCULLIS_TEST_CACHE ?? join(homedir(), '.cache', 'portcullis-test');
  const dir = join(root, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
