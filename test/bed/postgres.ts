import { type ChildProcess, execFileSync, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports';
import { captureOutput, removeTempDir, spawnTracked, trackTempDir } from './processes';

export interface PostgresDatabase {
  /** `postgres://postgres@127.0.0.1:PORT/DB`: trust authentication on loopback, so no password. */
  url: string;
  /** Drops this database; the server stops once no database handed out is left (and at process exit). */
  stop(): Promise<void>;
}

interface RunningServer {
  port: number;
  dir: string;
  child: ChildProcess;
  output: () => string;
  /** Databases handed out and not yet stopped. */
  users: number;
}

const SUPERUSER = 'postgres';
const READY_TIMEOUT_MS = 30_000;

// One server per process, that is per test file under node:test: starting PostgreSQL takes seconds, a database
// takes milliseconds.
let starting: Promise<RunningServer> | undefined;

/**
 * A fresh, empty database on a real PostgreSQL (Debian's packages) listening on a random loopback port.
 * The first call starts the server (initdb into a temp folder, as the `postgres` user when running as root);
 * later calls in the same process reuse it. Keep one result open for the whole file (e.g. in `before`) and
 * take more for tests that need a database of their own.
 */
export async function startPostgres(): Promise<PostgresDatabase> {
  starting ??= startServer().catch((error) => {
    starting = undefined;
    throw error;
  });
  const server = await starting;
  server.users += 1;
  const name = `test_${randomBytes(6).toString('hex')}`;
  try {
    await adminQuery(server, `create database ${name}`);
  } catch (error) {
    await release(server);
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://${SUPERUSER}@127.0.0.1:${server.port}/${name}`,
    stop: () => {
      stopped ??= (async () => {
        try {
          // `with (force)` ends sessions a test left open (PostgreSQL 13+).
          await adminQuery(server, `drop database if exists ${name} with (force)`);
        } finally {
          await release(server);
        }
      })();
      return stopped;
    },
  };
}

async function release(server: RunningServer): Promise<void> {
  server.users -= 1;
  if (server.users > 0) return;
  starting = undefined;
  await stopServer(server);
}

/** Debian puts the server binaries in /usr/lib/postgresql/<version>/bin, outside PATH. */
export function findPostgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  } catch {
    // no pg_config: fall through
  }
  return undefined;
}

function ensurePostgres(): string {
  const found = findPostgresBinDir();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error('PostgreSQL is not installed (no initdb found); install it with: sudo apt-get install -y postgresql');
  }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const installed = findPostgresBinDir();
  if (!installed) throw new Error('apt-get installed postgresql but no initdb was found under /usr/lib/postgresql/*/bin');
  return installed;
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` user that Debian's package creates. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', SUPERUSER], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', SUPERUSER], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root, but there is no "postgres" user to run PostgreSQL as; install the postgresql package');
  }
}

async function startServer(): Promise<RunningServer> {
  const bin = ensurePostgres();
  const owner = runAs();
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-postgres-')));
  // Spawning with uid/gid (rather than through runuser) keeps the tracked child the postmaster itself, so killing
  // it at exit stops the server. Node drops root's supplementary groups when it sets the uid.
  const as: SpawnOptions = owner ? { uid: owner.uid, gid: owner.gid } : {};
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const dataDir = join(dir, 'data');
  try {
    execFileSync(
      join(bin, 'initdb'),
      ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync', '--no-instructions'],
      { ...as, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
    );
  } catch (error) {
    removeTempDir(dir);
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`initdb failed: ${stderr || (error as Error).message}`);
  }
  // The port comes from a probe that closed again; another process may take it meanwhile, so try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const child = spawnTracked(
      join(bin, 'postgres'),
      [
        '-D',
        dataDir,
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-k',
        dir,
        // A test database: durability is not wanted, speed is.
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
      { ...as, cwd: dir },
    );
    const output = captureOutput(child);
    const server: RunningServer = { port, dir, child, output, users: 0 };
    try {
      await waitUntilReady(server);
      // Not referenced: a test file whose last database was never stopped still ends (the exit hook kills it).
      child.unref();
      for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
      return server;
    } catch (error) {
      lastError = error;
      child.kill('SIGKILL');
    }
  }
  removeTempDir(dir);
  throw lastError;
}

async function waitUntilReady(server: RunningServer): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`PostgreSQL exited while starting:\n${server.output()}`);
    }
    try {
      await adminQuery(server, 'select 1');
      return;
    } catch (error) {
      // Refused while not yet listening, or "the database system is starting up".
      if (Date.now() > deadline)
        throw new Error(`PostgreSQL did not accept queries within ${READY_TIMEOUT_MS} ms: ${(error as Error).message}\n${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function adminQuery(server: RunningServer, text: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: SUPERUSER, database: 'postgres' });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(text);
  } finally {
    await client.end().catch(() => {});
  }
}

async function stopServer(server: RunningServer): Promise<void> {
  const { child } = server;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // SIGINT is PostgreSQL's fast shutdown: it ends open sessions instead of waiting for them (SIGTERM would).
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  removeTempDir(server.dir);
}
