#!/usr/bin/env node
// `npm test`: installs the test components that are missing (FerretDB, Debian packages, code-server),
// then runs every *.test.ts in the tree with Node's built-in test runner.
// Arguments narrow the run: `npm test -- gateway` runs the test files whose path contains "gateway".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const skipDirs = new Set(['node_modules', 'dist', '.git', '.cache', 'test-artifacts']);

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
const setupStatus = run(process.execPath, ['--import', 'tsx', 'scripts/setup-test-components.ts', ...filters]);
if (setupStatus !== 0) process.exit(setupStatus);

const files = findTests(root).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const concurrency = process.env.PORTCULLIS_TEST_CONCURRENCY ?? '2';
process.exit(
  run(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...files], {
    ...process.env,
    NODE_OPTIONS: '',
  }),
);
