#!/usr/bin/env node
// Bundles the entry points with esbuild:
//   dist/extension.js         the VS Code extension (vscode is provided by the editor)
//   dist/mongosh-terminal.js  what the extension's mongosh terminals run: mongosh, then why it or its session ended
//   dist/cli.js               the `portcullis` command (also runs the control plane and the gateway)
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
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
  build({
    ...common,
    entryPoints: ['cli/main.ts'],
    outfile: 'dist/cli.js',
    external: nativeExternals,
    banner: { js: '#!/usr/bin/env node' },
  }),
]);
chmodSync(join(root, 'dist', 'cli.js'), 0o755);
