/**
 * For the store's tests only: runs one suite against SQLite (temp folder) and PostgreSQL (one server per test
 * file, a fresh database per store), so both dialects must pass the same assertions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { type PostgresDatabase, startPostgres } from '../../test/bed/postgres';
import { type OpenStoreOptions, openStore } from './open-store';
import type { Store, StoreDialect } from './store';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface TestStore {
  store: Store;
  /** Opens the same database again (after `store.close()`), running migrations as openStore always does. */
  options: OpenStoreOptions;
}

export interface DialectContext {
  dialect: StoreDialect;
  /** A migrated store on an empty database; closed and removed after the suite. `extra` adds store options. */
  freshStore(extra?: Pick<OpenStoreOptions, 'connectionWaitMs'>): Promise<TestStore>;
}

export function describeOnBothDialects(title: string, body: (context: DialectContext) => void): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    describe(`${title} [${dialect}]`, () => {
      let shared: PostgresDatabase | undefined;
      const cleanups: Array<() => Promise<void>> = [];
      before(async () => {
        // Keeps the file's one PostgreSQL server up across the suite.
        if (dialect === 'postgres') shared = await startPostgres();
      });
      after(async () => {
        for (const cleanup of cleanups.reverse()) await cleanup();
        await shared?.stop();
      });
      const freshStore = async (extra: Pick<OpenStoreOptions, 'connectionWaitMs'> = {}): Promise<TestStore> => {
        let options: OpenStoreOptions;
        if (dialect === 'sqlite') {
          const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-store-'));
          cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
          options = { dataDir, ...extra };
        } else {
          const database = await startPostgres();
          cleanups.push(() => database.stop());
          options = { url: database.url, ...extra };
        }
        const store = await openStore(options);
        // Bounded: a store whose test left a query waiting forever (the failure some tests look for) cannot
        // close, and must not stall the rest of the run.
        cleanups.push(() => Promise.race([store.close(), new Promise<void>((r) => setTimeout(r, 5000).unref())]));
        return { store, options };
      };
      body({ dialect, freshStore });
    });
  }
}

/**
 * For the locked-transaction test (also run in a second process): increments a counter, the `name` of user
 * `counterId`, for `ms` milliseconds from 4 concurrent loops. Each loop reads, yields (as a real decision would,
 * awaiting other work), then writes what it read plus one: without the lock, two increments read the same value
 * and one is lost (PostgreSQL), or the second writer fails (SQLite). Returns how many increments it made.
 */
export async function incrementCounterFor(store: Store, counterId: string, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let done = 0;
  const loop = async () => {
    while (Date.now() < until) {
      await store.lockedTransaction(['counter', `counter:${counterId}`], async (trx) => {
        const row = await trx.selectFrom('users').select('name').where('id', '=', counterId).executeTakeFirstOrThrow();
        await sleep(1);
        await trx
          .updateTable('users')
          .set({ name: String(Number(row.name) + 1) })
          .where('id', '=', counterId)
          .execute();
      });
      done += 1;
    }
  };
  await Promise.all([loop(), loop(), loop(), loop()]);
  return done;
}
