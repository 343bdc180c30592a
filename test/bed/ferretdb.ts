import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCerts, type TestCerts } from './certs';
import { ensureFerretDB } from './ferretdb-install';
import { freePort, waitForPort } from './ports';
import { captureOutput, removeTempDir, spawnTracked, stopProcess, trackTempDir } from './processes';

export type TlsCertChoice = 'verified' | 'selfSigned' | 'wrongHost';

export interface FerretDBOptions {
  /** Adds a TLS listener presenting this certificate (see certs.ts). */
  tls?: TlsCertChoice;
  /** Makes `hello` report a replica set of this name, as a real cluster member does. */
  replSetName?: string;
  /** FerretDB's log level (default `error`); `info` fills getLog with lines naming client addresses. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface FerretDBServer {
  host: string;
  port: number;
  /** Port of the TLS listener, when started with `tls`. */
  tlsPort?: number;
  /** Certificates made for this server, when started with `tls`. */
  certs?: TestCerts;
  /** The setup user, in the admin database. */
  username: string;
  password: string;
  /** `mongodb://127.0.0.1:PORT/` without credentials. */
  uri: string;
  /** The same with the setup user's credentials and SCRAM-SHA-256. */
  adminUri: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a real FerretDB on a random loopback port: SQLite storage in a temp folder, SCRAM authentication
 * on (new auth), a setup user in admin with a random password. Call stop() (it also runs at process exit).
 */
export async function startFerretDB(options: FerretDBOptions = {}): Promise<FerretDBServer> {
  const binary = ensureFerretDB();
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-ferretdb-')));
  const port = await freePort();
  const username = 'setup-admin';
  const password = randomBytes(18).toString('base64url');
  const args = [
    '--handler=sqlite',
    `--sqlite-url=file:${dir}/`,
    `--listen-addr=127.0.0.1:${port}`,
    '--test-enable-new-auth=true',
    `--setup-username=${username}`,
    '--setup-database=admin',
    `--state-dir=${dir}`,
    '--debug-addr=-',
    '--telemetry=disable',
    `--log-level=${options.logLevel ?? 'error'}`,
  ];
  let tlsPort: number | undefined;
  let certs: TestCerts | undefined;
  if (options.tls) {
    certs = makeTestCerts(dir);
    tlsPort = await freePort();
    const chosen = certs[options.tls];
    args.push(`--listen-tls=127.0.0.1:${tlsPort}`, `--listen-tls-cert-file=${chosen.certFile}`, `--listen-tls-key-file=${chosen.keyFile}`);
  }
  if (options.replSetName) args.push(`--repl-set-name=${options.replSetName}`);
  // The password goes through the environment, not argv, so `ps` does not show it.
  const child = spawnTracked(binary, args, { cwd: dir, env: { ...process.env, FERRETDB_SETUP_PASSWORD: password } });
  const output = captureOutput(child);
  const alive = () => child.exitCode === null && child.signalCode === null;
  try {
    await waitForPort(port, '127.0.0.1', 20_000, alive);
    if (tlsPort) await waitForPort(tlsPort, '127.0.0.1', 20_000, alive);
  } catch (error) {
    await stopProcess(child);
    removeTempDir(dir);
    throw new Error(`FerretDB did not start: ${(error as Error).message}\n${output()}`);
  }
  return {
    host: '127.0.0.1',
    port,
    tlsPort,
    certs,
    username,
    password,
    uri: `mongodb://127.0.0.1:${port}/`,
    adminUri: `mongodb://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${port}/?authSource=admin&authMechanism=SCRAM-SHA-256`,
    output,
    async stop() {
      await stopProcess(child);
      removeTempDir(dir);
    },
  };
}
