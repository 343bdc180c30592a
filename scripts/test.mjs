#!/usr/bin/env node
// `npm test`: installs the test components that are missing (FerretDB, Debian packages, code-server, other Node.js
// lines), then runs every *.test.ts in the tree with Node's built-in test runner, on each supported Node.js line:
//   - the machine's Node.js: every file;
//   - Node 24: every file but those that do not run on the outer Node.js (the extension's UI tests run in
//     code-server's own Node.js; the single-file gateway test runs the executable it builds), and the long ones whose
//     subject is not the runtime (see NOT_ON_SECOND_LINE);
//   - Node 22 and 26: a short end-to-end subset (control plane, relay, gateway and CLI on that line).
// Arguments narrow the run to the machine's Node.js: `npm test -- gateway` runs the test files whose path contains
// "gateway". PORTCULLIS_TEST_NODE=24 (or 22, 26) runs the selected files on that line instead, and a list such as
// PORTCULLIS_TEST_NODE=machine,24 on each line named ('machine' is the Node.js running this script).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const skipDirs = new Set(['node_modules', 'dist', '.git', '.cache', 'test-artifacts']);
/**
 * Left out of the Node 24 run: files whose outcome does not depend on the Node.js that runs the test runner (the
 * extension's UI tests run in code-server's own Node.js; the single-file gateway test runs the executable it builds),
 * and long files whose subject is not the runtime: the web console's pages in Chromium, Schemathesis's checks of the
 * API against its schema, the benchmark's smoke run and the wire parser's random inputs. The server, gateway and
 * client code they drive runs on Node 24 in every other file. Together they took about 5 minutes of the Node 24 run.
 */
const NOT_ON_SECOND_LINE = [
  /^test\/e2e\/extension-ui/,
  /^test\/e2e\/gateway-executable\.test\.ts$/,
  /^test\/e2e\/console-/,
  /^test\/e2e\/api-openapi-fuzz\.test\.ts$/,
  /^bench\/bench-smoke\.test\.ts$/,
  /^gateway\/wire\/fuzz\.test\.ts$/,
];
/** What Node 22 and 26 run: a session through the whole tunnel, and `portcullis start` (the CLI bundle running the control plane and a gateway). */
const SHORT_SUBSET = ['test/e2e/tunnel-session.test.ts', 'test/e2e/cli-start.test.ts'];

function findTests(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipDirs.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) findTests(path, out);
    else if (entry.name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out.sort();
}

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

const filters = process.argv.slice(2);
const allFiles = findTests(root);
const files = allFiles.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

/** Each run: a Node.js line ('machine' or a major) and its files. */
const chosenLines = process.env.PORTCULLIS_TEST_NODE?.split(',').filter((line) => line !== '');
const runs = chosenLines?.length
  ? chosenLines.map((line) => ({ line, files }))
  : filters.length > 0
    ? [{ line: 'machine', files }]
    : [
        { line: 'machine', files },
        { line: '24', files: files.filter((f) => !NOT_ON_SECOND_LINE.some((re) => re.test(f))) },
        { line: '22', files: SHORT_SUBSET },
        { line: '26', files: SHORT_SUBSET },
      ];
const otherLines = runs.map((r) => r.line).filter((line) => line !== 'machine');

const setupStatus = run(process.execPath, ['--import', 'tsx', 'scripts/setup-test-components.ts', ...filters], {
  ...process.env,
  PORTCULLIS_TEST_NODE_LINES: otherLines.join(','),
});
if (setupStatus !== 0) process.exit(setupStatus);

const cacheRoot = join(process.env.PORTCULLIS_TEST_CACHE ?? join(homedir(), '.cache', 'portcullis-test'), 'node');
function nodeOf(line) {
  if (line === 'machine') return process.execPath;
  // Installed by the setup above; this only prints the path.
  const found = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/node-binary.ts', line, cacheRoot], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (found.status !== 0) process.exit(found.status ?? 1);
  return found.stdout.trim();
}

const concurrency = process.env.PORTCULLIS_TEST_CONCURRENCY ?? '2';
const summary = [];
let failed = false;
for (const { line, files: lineFiles } of runs) {
  const node = nodeOf(line);
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (runs.length > 1 || line !== 'machine') console.log(`\n== Node.js ${version}: ${lineFiles.length} test files ==\n`);
  const started = Date.now();
  const status = run(node, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...lineFiles], {
    ...process.env,
    NODE_OPTIONS: '',
  });
  failed ||= status !== 0;
  summary.push(
    `Node.js ${version}: ${lineFiles.length} files ${status === 0 ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s`,
  );
}
console.log(`\n${summary.join('\n')}`);
process.exit(failed ? 1 : 0);
