/**
 * The store's guard against waiting forever (issue 12): code inside `store.transaction` that queries through the
 * outer handle gets a clear error within the deadline, the transaction rolls back, and the store goes on serving.
 * Each test has a timeout of its own, so that a guard that stops working fails it instead of stalling the run.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConnectionWaitTimeoutError } from './connection-deadline';
import { newId } from './ids';
import type { NewUserRow } from './schema';
import { describeOnBothDialects } from './store-test-harness';

const WAIT_MS = 300;
/** Far above WAIT_MS even on a loaded machine; far below a test runner's timeout. */
const SETTLES_WITHIN_MS = 10_000;
const TEST_TIMEOUT = { timeout: 30_000 };

/** `promise`, or a failure naming `what` when it has not settled in time (a hang must fail, not stall the run). */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not settle within ${SETTLES_WITHIN_MS} ms: the store hangs`)),
      SETTLES_WITHIN_MS,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function userRow(): NewUserRow {
  const time = new Date().toISOString();
  return { id: newId('usr_'), email: `${newId('usr_')}@example.com`, name: 'U', password_hash: 'x', created_at: time, updated_at: time };
}

describeOnBothDialects('store connection deadline', ({ dialect, freshStore }) => {
  it('sqlite: store.db inside store.transaction fails with a clear error, rolls back, and the store goes on', {
    ...TEST_TIMEOUT,
    skip: dialect !== 'sqlite',
  }, async () => {
    const { store } = await freshStore({ connectionWaitMs: WAIT_MS });
    const user = userRow();
    await assert.rejects(
      within(
        store.transaction(async (trx) => {
          await trx.insertInto('users').values(user).execute();
          // The mistake of issue 12: the outer handle, while this transaction holds SQLite's one connection.
          await store.db.selectFrom('users').select('id').execute();
        }),
        'the transaction',
      ),
      (error: Error) => {
        assert.ok(error instanceof ConnectionWaitTimeoutError, String(error));
        assert.match(error.message, /^no database connection within 0\.3 s: SQLite's one connection is held by a transaction/);
        assert.match(error.message, /must query through the transaction \(trx\), never store\.db/);
        return true;
      },
    );
    // Rolled back, and the connection is free again: for the outer handle and for new transactions.
    assert.equal((await store.db.selectFrom('users').select('id').execute()).length, 0);
    await store.transaction((trx) => trx.insertInto('users').values(user).execute());
    assert.equal((await store.db.selectFrom('users').select('id').execute()).length, 1);
  });

  it('postgres: transactions that each need a second pooled connection fail with a clear error instead of waiting forever', {
    ...TEST_TIMEOUT,
    skip: dialect !== 'postgres',
  }, async () => {
    const { store } = await freshStore({ connectionWaitMs: WAIT_MS });
    // pg's pool holds 10 connections: 10 transactions hold all of them, and each then asks for an 11th.
    const attempts = Array.from({ length: 10 }, () =>
      store.transaction(async (trx) => {
        await trx.selectFrom('users').select('id').execute();
        await new Promise((r) => setTimeout(r, 50));
        await store.db.selectFrom('users').select('id').execute();
      }),
    );
    const results = await within(Promise.allSettled(attempts), 'the transactions');
    const timedOut = results.filter((r) => r.status === 'rejected' && r.reason instanceof ConnectionWaitTimeoutError);
    assert.ok(timedOut.length > 0, JSON.stringify(results.map((r) => r.status)));
    assert.match(
      (timedOut[0] as PromiseRejectedResult).reason.message,
      /^no database connection within 0\.3 s: every connection of the PostgreSQL pool is busy/,
    );
    // Every connection came back to the pool.
    const again = await Promise.all(
      Array.from({ length: 10 }, () => store.transaction((trx) => trx.selectFrom('users').select('id').execute())),
    );
    assert.equal(again.length, 10);
  });

  it('postgres: a write through store.db to a row its own transaction holds fails on the lock timeout', {
    ...TEST_TIMEOUT,
    skip: dialect !== 'postgres',
  }, async () => {
    const { store } = await freshStore({ connectionWaitMs: WAIT_MS });
    const user = userRow();
    await store.db.insertInto('users').values(user).execute();
    await assert.rejects(
      within(
        store.transaction(async (trx) => {
          await trx.updateTable('users').set({ name: 'in the transaction' }).where('id', '=', user.id).execute();
          await store.db.updateTable('users').set({ name: 'through the outer handle' }).where('id', '=', user.id).execute();
        }),
        'the transaction',
      ),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, '55P03', String(error));
        assert.match(error.message, /lock timeout/);
        return true;
      },
    );
    const row = await store.db.selectFrom('users').select('name').where('id', '=', user.id).executeTakeFirstOrThrow();
    assert.equal(row.name, 'U');
  });
});
