import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testCacheDir } from './cache';

export const FERRETDB_VERSION = 'v1.24.2';
const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';

/** Go on PATH, else the usual install location that is often not on PATH. */
export function findGo(): string {
  for (const candidate of ['go', '/usr/local/go/bin/go', '/usr/lib/go/bin/go']) {
    try {
      execFileSync(candidate, ['version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    'Go was not found (looked on PATH and in /usr/local/go/bin). The test MongoDB server, FerretDB, is built from source with Go: ' +
      'install Go 1.22 or newer (Debian: `apt-get install golang-go`, or unpack the official release into /usr/local/go) and run the tests again.',
  );
}

export function ferretdbBinaryPath(): string {
  return join(testCacheDir(`ferretdb-${FERRETDB_VERSION}`), 'ferretdb');
}

/**
 * Builds FerretDB once into the cache and returns the binary's path; skips the build when the binary is there.
 *
 * `go install ...@v1.24.2` builds, but the binary panics at start: the module as published lacks the
 * generated build/version/version.txt, and FerretDB refuses to run without it when it is the main module.
 * So we copy the module's source out of the module cache, write version.txt, and build it there.
 */
export function ensureFerretDB(log: (line: string) => void = () => {}): string {
  const binary = ferretdbBinaryPath();
  if (existsSync(binary)) return binary;
  const go = findGo();
  log(`building FerretDB ${FERRETDB_VERSION} with ${go} (once; cached in ${binary})`);
  const env = { ...process.env, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
  const download = execFileSync(go, ['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const moduleDir = (JSON.parse(download) as { Dir?: string }).Dir;
  if (!moduleDir) throw new Error(`go mod download did not report where ${FERRETDB_MODULE} is: ${download}`);
  const work = mkdtempSync(join(tmpdir(), 'ferretdb-build-'));
  try {
    const src = join(work, 'src');
    cpSync(moduleDir, src, { recursive: true });
    execFileSync('chmod', ['-R', 'u+w', src]);
    writeFileSync(join(src, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    const tmpBinary = `${binary}.partial`;
    execFileSync(go, ['build', '-o', tmpBinary, './cmd/ferretdb'], { cwd: src, env, stdio: ['ignore', 'inherit', 'inherit'] });
    execFileSync(tmpBinary, ['--version'], { stdio: 'ignore' });
    renameSync(tmpBinary, binary);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  log(`built ${binary}`);
  return binary;
}
