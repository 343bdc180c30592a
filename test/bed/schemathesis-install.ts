import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testCacheDir } from './cache';

export const SCHEMATHESIS_VERSION = '4.32.5';

function venvDir(): string {
  return join(testCacheDir(), `schemathesis-${SCHEMATHESIS_VERSION}`);
}

/** The `st` command inside the cached virtual environment. */
export function schemathesisPath(): string {
  return join(venvDir(), 'bin', 'st');
}

/** Debian splits `venv`'s pip bootstrap (ensurepip) into python3-venv; as root it is installed when missing. */
function ensurePythonVenv(log: (line: string) => void): void {
  const probe = () => {
    try {
      execFileSync('python3', ['-c', 'import ensurepip, venv'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (probe()) return;
  if (process.getuid?.() !== 0) {
    throw new Error('Python 3 with venv is missing; install it with: sudo apt-get install -y python3-venv (then run the tests again)');
  }
  log('installing the Debian package python3-venv');
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'python3-venv'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/**
 * Installs Schemathesis from PyPI into a virtual environment in the test cache, once per version. A venv's scripts
 * name their interpreter by absolute path, so it is built where it stays; a marker written last tells a finished
 * install from an interrupted one, which is thrown away and redone.
 */
export function ensureSchemathesis(log: (line: string) => void = () => {}): string {
  const venv = venvDir();
  const marker = join(venv, '.portcullis-installed');
  const st = schemathesisPath();
  if (existsSync(marker)) return st;
  log(`installing Schemathesis ${SCHEMATHESIS_VERSION} from PyPI into ${venv} (once)`);
  rmSync(venv, { recursive: true, force: true });
  ensurePythonVenv(log);
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`], {
    stdio: 'inherit',
  });
  execFileSync(st, ['--version'], { stdio: 'ignore' });
  writeFileSync(marker, `${SCHEMATHESIS_VERSION}\n`);
  return st;
}
