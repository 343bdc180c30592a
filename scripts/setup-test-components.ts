// Installs what the tests need and is missing, so that `npm test` works on a fresh machine.
// Each step is idempotent and cheap when its component is already there.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ensureFerretDB } from '../test/bed/ferretdb-install';

const log = (line: string) => console.log(`[test setup] ${line}`);

/** Debian packages the tests use, keyed by a file that shows the package is installed. */
const debianPackages: Record<string, string> = {
  '/usr/bin/openssl': 'openssl',
};

function ensureDebianPackages(): void {
  const missing = Object.entries(debianPackages)
    .filter(([file]) => !existsSync(file))
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `these Debian packages are missing: ${missing.join(' ')}; install them with: sudo apt-get install -y ${missing.join(' ')}`,
    );
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

ensureDebianPackages();
ensureFerretDB(log);
