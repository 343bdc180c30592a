import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { DEFAULT_CONNECTION_WAIT_MS, withConnectionDeadline } from './connection-deadline';
import { exclusively, lockedTransaction } from './locked-transaction';
import { migrateToLatest } from './migrate';
import type { Database } from './schema';
import { sqliteDriver } from './sqlite-driver';
import type { Store, StoreDialect } from './store';

export interface OpenStoreOptions {
  /** `postgres://` or `postgresql://` URL. Takes precedence over `dataDir` when set. */
  url?: string;
  /** Folder of the SQLite file `<dataDir>/portcullis.db` (created, mode 0700, when missing; the files are mode 0600). */
  dataDir?: string;
  /**
   * How long a query may wait for a database connection (and, on PostgreSQL, for a lock) before it fails with a
   * clear error instead of waiting forever (see connection-deadline.ts). Default 10 s.
   */
  connectionWaitMs?: number;
}

export const SQLITE_FILE_NAME = 'portcullis.db';
/** How long a SQLite write waits for another process's lock before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;
const PG_INT8_OID = 20;

/**
 * Opens the store and brings its schema up to date. PostgreSQL when `url` is set, else SQLite in `dataDir`.
 * Throws with a clear message when neither is given, the URL is not PostgreSQL's, or a migration fails.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const waitMs = options.connectionWaitMs ?? DEFAULT_CONNECTION_WAIT_MS;
  const { db, dialect } = options.url
    ? openPostgres(options.url, waitMs)
    : options.dataDir
      ? openSqlite(options.dataDir, waitMs)
      : (() => {
          throw new Error('openStore needs a PostgreSQL URL (url) or a folder for the SQLite file (dataDir)');
        })();
  try {
    await migrateToLatest(db, dialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    db,
    dialect,
    close: () => {
      closed ??= db.destroy();
      return closed;
    },
    transaction: (fn) => db.transaction().execute(fn),
    lockedTransaction: (names, fn) => lockedTransaction(db, dialect, names, fn),
    exclusively: (name, fn) => exclusively(db, dialect, name, fn),
  };
}

function openSqlite(dataDir: string, waitMs: number): { db: Kysely<Database>; dialect: StoreDialect } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, SQLITE_FILE_NAME);
  let database: BetterSqlite3.Database;
  try {
    makePrivate(file);
    const SqliteDatabase = sqliteDriver();
    database = new SqliteDatabase(file);
  } catch (error) {
    throw new Error(`cannot open the SQLite store ${file}: ${(error as Error).message}`, { cause: error });
  }
  // WAL lets readers go on while one writer writes. Foreign keys are off in stock SQLite (better-sqlite3's build
  // turns them on, but the store must not depend on how its SQLite was built).
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  return {
    db: new Kysely<Database>({ dialect: withConnectionDeadline(new SqliteDialect({ database }), 'sqlite', waitMs) }),
    dialect: 'sqlite',
  };
}

/**
 * SQLite creates a database file with mode 0644 (less the umask), and gives its -wal and -shm files the mode of
 * the database file. Creating the database empty with mode 0600 first (SQLite takes an empty file for a new
 * database), and narrowing the files an older version left readable, keeps all three readable by us alone.
 */
function makePrivate(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    if (existsSync(path)) chmodSync(path, 0o600);
  }
}

function openPostgres(url: string, waitMs: number): { db: Kysely<Database>; dialect: StoreDialect } {
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    // The URL may hold a password: name only its scheme.
    const scheme = url.split(':')[0] ?? '';
    throw new Error(`the store URL must start with postgres:// or postgresql:// (got a "${scheme}:" URL)`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    // int8 (bigserial ids, count(*)) as a number, as on SQLite; ids and counts stay far below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === PG_INT8_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
    // A statement waiting on a row or table lock fails after this long. PostgreSQL detects deadlocks between its
    // own sessions, but not one that goes through this process (a write through store.db to a row that the same
    // request's open transaction holds): without a limit that wait would be forever.
    lock_timeout: waitMs,
  });
  // An idle client that loses its server emits here; without a listener that would crash the process.
  // The pool drops that client, and the next query gets a fresh one (or fails with its own error).
  pool.on('error', () => {});
  return {
    db: new Kysely<Database>({ dialect: withConnectionDeadline(new PostgresDialect({ pool }), 'postgres', waitMs) }),
    dialect: 'postgres',
  };
}
