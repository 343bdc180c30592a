#!/usr/bin/env node
// Bundles the entry points with esbuild:
//   dist/extension.js         the VS Code extension (vscode is provided by the editor)
//   dist/mongosh-terminal.js  what the extension's mongosh terminals run: mongosh, then why it or its session ended
//   dist/cli.js               the `portcullis` command (also runs the control plane and the gateway)
//   dist/console/             the web console the control plane serves at / (console.js, console.css, index.html)
// `--console-only DIR` builds only the web console, into DIR (the browser tests build their own copy).
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');

/** The web console: a browser bundle (Preact, everything inside it: no CDN), its stylesheet and its page. */
async function buildConsole(outdir) {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: { console: 'console/main.tsx' },
    outdir,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
    absWorkingDir: root,
  });
  for (const file of ['index.html', 'console.css']) copyFileSync(join(root, 'console', file), join(outdir, file));
  copyFileSync(join(root, 'media', 'portcullis.png'), join(outdir, 'favicon.png'));
}

const consoleOnly = process.argv.indexOf('--console-only');
if (consoleOnly !== -1) {
  await buildConsole(resolve(process.argv[consoleOnly + 1] ?? join(root, 'dist', 'console')));
  process.exit(0);
}
// Native addons and packages that load files at run time stay outside the bundle.
const nativeExternals = ['better-sqlite3', 'better-sqlite3-node20', 'argon2', '@napi-rs/keyring', 'pg-native'];
// The MongoDB driver's optional add-ons (Kerberos, compression, cloud credentials, encryption), loaded in try/catch:
// the extension's browse connects without them, so they stay out of its bundle (and of the .vsix).
const mongodbDriverOptionals = [
  'kerberos',
  '@mongodb-js/zstd',
  '@aws-sdk/credential-providers',
  'gcp-metadata',
  'snappy',
  'socks',
  'mongodb-client-encryption',
];

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

await Promise.all([
  build({
    ...common,
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode', ...nativeExternals, ...mongodbDriverOptionals],
  }),
  build({ ...common, entryPoints: ['extension/terminals/mongosh-wrapper.ts'], outfile: 'dist/mongosh-terminal.js' }),
  buildConsole(join(root, 'dist', 'console')),
  build({
    ...common,
    entryPoints: ['cli/main.ts'],
    outfile: 'dist/cli.js',
    external: nativeExternals,
    banner: { js: '#!/usr/bin/env node' },
  }),
]);
chmodSync(join(root, 'dist', 'cli.js'), 0o755);
