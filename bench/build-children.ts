/**
 * Bundles the programs the bench runs as separate processes, the way scripts/build.mjs bundles the CLI: the
 * `portcullis` CLI itself (for `server` and `gateway start`) and the small entry points in bench/children/.
 * Bundles go to a folder of their own under dist/ (removed at exit), so a bench run never overwrites dist/cli.js
 * while someone else uses it, and the native addons left out of the bundle resolve from the repo's node_modules.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { trackTempDir } from '../test/bed/processes';

const ROOT = join(__dirname, '..');
const NATIVE_EXTERNALS = ['better-sqlite3', 'better-sqlite3-node20', 'argon2', '@napi-rs/keyring', 'pg-native'];
const CHILDREN = Object.freeze(['echo-server', 'echo-gateway', 'gateway-agent', 'access-proxy', 'pipe-forwarder'] as const);
export type ChildName = (typeof CHILDREN)[number];

export interface BenchPrograms {
  /** The CLI bundle: the control plane and the gateway run as `portcullis server` and `portcullis gateway start`. */
  cli: string;
  child: Record<ChildName, string>;
}

export async function buildBenchPrograms(): Promise<BenchPrograms> {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const dir = trackTempDir(mkdtempSync(join(ROOT, 'dist', 'bench-')));
  const common = {
    bundle: true,
    platform: 'node' as const,
    target: 'node20',
    format: 'cjs' as const,
    sourcemap: true,
    logLevel: 'silent' as const,
    absWorkingDir: ROOT,
    external: NATIVE_EXTERNALS,
  };
  const child = {} as Record<ChildName, string>;
  await Promise.all(
    CHILDREN.map(async (name) => {
      const outfile = join(dir, `${name}.js`);
      await build({ ...common, entryPoints: [join('bench', 'children', `${name}.ts`)], outfile });
      child[name] = outfile;
    }),
  );
  const cli = join(dir, 'cli.js');
  await build({ ...common, entryPoints: ['cli/main.ts'], outfile: cli });
  return { cli, child };
}
