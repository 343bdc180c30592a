/**
 * `portcullis server`: runs the control plane. `portcullis server bootstrap`: a new one-time admin sign-in.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type ControlPlaneConfig, keyFileOf, loadConfigFromEnv, resolveConfig } from '../../server/config';
import { parsePort } from '../input/duration';
import { printStatus, printText } from '../output/output-mode';
import { untilSignal } from '../signals';

export interface ServerFlags {
  dataDir?: string;
  port?: number;
  host?: string;
  databaseUrl?: string;
  insecureHttp?: boolean;
}

export function addServerOptions(command: Command, defaults: { dataDir: string }): Command {
  return command
    .option('--data-dir <dir>', `where the SQLite database and the root key live (default: $PORTCULLIS_DATA_DIR or ${defaults.dataDir})`)
    .option('--port <port>', 'port to listen on (default: $PORTCULLIS_PORT or 8443; 0 picks a free one)', parsePort0)
    .option('--host <host>', 'address to listen on (default: $PORTCULLIS_HOST or 127.0.0.1)')
    .option('--database-url <url>', 'PostgreSQL instead of SQLite (prefer $PORTCULLIS_DATABASE_URL when the URL has a password)')
    .option('--insecure-http', 'serve plain HTTP on a non-loopback --host (only behind a proxy that terminates TLS)');
}

/** Environment first, flags over it. */
export function serverConfig(flags: ServerFlags, overrides: Partial<ControlPlaneConfig> = {}): ControlPlaneConfig {
  const fromEnv = loadConfigFromEnv(process.env);
  if (flags.databaseUrl && /\/\/[^/@]*:[^/@]*@/.test(flags.databaseUrl)) {
    printStatus(
      'warning: --database-url has a password in it, which other users can see in the process list; use PORTCULLIS_DATABASE_URL instead',
    );
  }
  return resolveConfig({
    ...fromEnv,
    ...overrides,
    ...(flags.dataDir !== undefined ? { dataDir: resolve(flags.dataDir) } : { dataDir: resolve(overrides.dataDir ?? fromEnv.dataDir) }),
    ...(flags.port !== undefined ? { listenPort: flags.port } : {}),
    ...(flags.host !== undefined ? { listenHost: flags.host } : {}),
    ...(flags.databaseUrl !== undefined ? { databaseUrl: flags.databaseUrl } : {}),
    ...(flags.insecureHttp ? { insecureHttp: true } : {}),
  });
}

export function registerServerCommands(program: Command): void {
  const server = addServerOptions(
    program.command('server').description('run the control plane (SQLite in the data folder, or PostgreSQL)'),
    { dataDir: '.portcullis-data' },
  ).action(async (flags: ServerFlags) => {
    const config = serverConfig(flags);
    // Loaded here, not at the top: the other commands should not pay for the server's modules.
    const { runServer } = await import('../../server/run-server');
    const { consoleNotice } = await import('../../server/http/console-static');
    const running = await runServer(config);
    printText(`Portcullis control plane listening on ${running.url}`);
    printText(consoleNotice(running.url, config.consoleDir));
    printText(`Data: ${config.databaseUrl ? 'PostgreSQL' : config.dataDir}`);
    if (running.bootstrap) printBootstrap(running.url, running.bootstrap);
    printText('Press Ctrl+C to stop.');
    const signal = await untilSignal();
    printStatus(`${signal}: stopping the control plane…`);
    await running.close();
  });

  server
    .command('bootstrap')
    .description('print a new one-time password for the first admin (or --email); their sign-ins are revoked')
    .option('--email <email>', 'the admin to reset (default: the first admin)')
    .action(async (flags: { email?: string }, command: Command) => {
      const config = serverConfig(command.parent?.opts<ServerFlags>() ?? {});
      const { resetAdminPassword } = await import('../../server/auth/bootstrap');
      const { newWrappedDataKey } = await import('../../server/secrets/envelope');
      const { loadRootKey, ROOT_KEY_ENV } = await import('../../server/secrets/root-key');
      const { openStore } = await import('../../server/store/open-store');
      const rootKey = loadRootKey({ env: process.env[ROOT_KEY_ENV], keyFile: keyFileOf(config) });
      const store = await openStore({ url: config.databaseUrl, dataDir: config.dataDir });
      try {
        const result = await resetAdminPassword(store, { email: flags.email, newWrappedKey: () => newWrappedDataKey(rootKey) });
        printText(`One-time admin sign-in for ${config.databaseUrl ? 'the PostgreSQL store' : config.dataDir}:`);
        printText(`  Email:    ${result.email}`);
        printText(`  Password: ${result.password}`);
        printText(`Earlier sign-ins of this user are revoked. Sign in with: portcullis login --server URL --email ${result.email}`);
      } finally {
        await store.close();
      }
    });
}

export function printBootstrap(url: string, sign: { email: string; password: string }): void {
  printText('');
  printText('First start: an admin was created. Sign in with this one-time password (shown only now):');
  printText(`  Email:    ${sign.email}`);
  printText(`  Password: ${sign.password}`);
  printText(`  portcullis login --server ${url} --email ${sign.email}`);
  printText('');
}

function parsePort0(text: string): number {
  return text === '0' ? 0 : parsePort(text);
}
