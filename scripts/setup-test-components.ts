// Installs what the tests need and is missing, so that `npm test` works on a fresh machine.
// Each step is idempotent and cheap when its component is already there.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_PATH, CODE_SERVER_DEBIAN_PACKAGES, ensureCodeServer } from '../test/bed/code-server';
import { ensureFerretDB } from '../test/bed/ferretdb-install';
import { parseNodeLines, testNodeBinary } from '../test/bed/node-lines';
import { ensureSchemathesis } from '../test/bed/schemathesis-install';

const log = (line: string) => console.log(`[test setup] ${line}`);

/** Debian packages the tests use, keyed by a file that shows the package is installed. */
const debianPackages: Record<string, string> = {
  '/usr/bin/openssl': 'openssl',
  // The metapackage's own file: version-independent, and present only with the server it depends on.
  '/usr/share/doc/postgresql/copyright': 'postgresql',
  // OpenSSH server for the benchmark's `ssh -L` comparison (test/bed/sshd.ts).
  '/usr/sbin/sshd': 'openssh-server',
  // The load balancer in front of several control-plane replicas (test/e2e/replicas.test.ts).
  '/usr/sbin/haproxy': 'haproxy',
};

// code-server (a real VS Code) and Chromium only for the extension's UI tests: `npm test` with no filter, or a
// filter that selects them (same substring rule as scripts/test.mjs).
const filters = process.argv.slice(2);
const uiTestsSelected = filters.length === 0 || filters.some((f) => 'test/e2e/extension-ui.test.ts'.includes(f));
if (uiTestsSelected) Object.assign(debianPackages, CODE_SERVER_DEBIAN_PACKAGES);
// Schemathesis (PyPI, in a cached virtual environment) only for the API fuzzing test.
const fuzzTestSelected = filters.length === 0 || filters.some((f) => 'test/e2e/api-openapi-fuzz.test.ts'.includes(f));
// The web console's browser tests need only Chromium (no code-server).
const consoleTests = ['admin', 'security', 'pages', 'https'].map((name) => `test/e2e/console-${name}.test.ts`);
const consoleTestsSelected = filters.length === 0 || filters.some((f) => consoleTests.some((path) => path.includes(f)));
if (consoleTestsSelected) debianPackages[CHROMIUM_PATH] = 'chromium';

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

// Other Node.js lines: those scripts/test.mjs runs the suite on, and Node 24 to build the single-file gateway.
const nodeLines = new Set(
  (() => {
    try {
      return parseNodeLines(process.env.PORTCULLIS_TEST_NODE_LINES);
    } catch (error) {
      console.error(`[test setup] ${(error as Error).message} (PORTCULLIS_TEST_NODE)`);
      process.exit(2);
    }
  })(),
);
if (filters.length === 0 || filters.some((f) => 'test/e2e/gateway-executable.test.ts'.includes(f))) nodeLines.add(24);

ensureDebianPackages();
ensureFerretDB(log);
if (uiTestsSelected) ensureCodeServer(log);
if (fuzzTestSelected) ensureSchemathesis(log);
for (const line of nodeLines) testNodeBinary(line, log);
