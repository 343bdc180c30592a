/**
 * Attempt counters in the database (`sign_in_throttles`), shared by every control-plane process: a row per key
 * with its failures, when the next attempt may come, and when the row may be forgotten. The sign-in limits
 * (./sign-in-throttle) and the enrollment limit (./enrollment-throttle) decide with them inside a locked
 * transaction (Store.lockedTransaction), so concurrent attempts on any replica count exactly.
 */
import type { Kysely } from 'kysely';
import type { Database, SignInThrottleRow } from '../store/schema';
import type { Store } from '../store/store';

export interface ScopePolicy {
  /** Failures that are checked without any wait. */
  freeFailures: number;
  /** Wait after the last free failure; each further failure doubles it. */
  firstDelaySeconds: number;
  maxDelaySeconds: number;
}

export const EPOCH = new Date(0).toISOString();
const PRUNE_EVERY_MS = 10 * 60_000;
const lastPruned = new WeakMap<Store, number>();

/** Seconds to wait after the `failures`-th failure (0 while failures are still free). */
export function delayAfterFailures(failures: number, policy: ScopePolicy): number {
  if (failures < policy.freeFailures) return 0;
  return Math.min(policy.maxDelaySeconds, policy.firstDelaySeconds * 2 ** (failures - policy.freeFailures));
}

export async function loadThrottleRows(trx: Kysely<Database>, keys: readonly string[]): Promise<Map<string, SignInThrottleRow>> {
  const rows = await trx
    .selectFrom('sign_in_throttles')
    .selectAll()
    .where('key', 'in', [...keys])
    .execute();
  return new Map(rows.map((row) => [row.key, row]));
}

/** A row's count as it stands now: a count whose last failure is older than `forgetAfterSeconds` starts again. */
export function currentCount(
  row: SignInThrottleRow | undefined,
  nowMs: number,
  forgetAfterSeconds: number,
): { failures: number; nextAttemptAt: string } {
  if (!row?.last_failure_at || nowMs - Date.parse(row.last_failure_at) >= forgetAfterSeconds * 1000) {
    return { failures: 0, nextAttemptAt: EPOCH };
  }
  return { failures: row.failures, nextAttemptAt: row.next_attempt_at };
}

export async function upsertThrottle(trx: Kysely<Database>, key: string, values: Omit<SignInThrottleRow, 'key'>): Promise<void> {
  await trx
    .insertInto('sign_in_throttles')
    .values({ key, ...values })
    .onConflict((oc) => oc.column('key').doUpdateSet(values))
    .execute();
}

/** An attempt counted as a failure turned out right: its count goes back down by one. */
export async function giveBackFailure(trx: Kysely<Database>, key: string): Promise<void> {
  await trx
    .updateTable('sign_in_throttles')
    .set((eb) => ({
      failures: eb
        .case()
        .when('failures', '>', 0)
        .then(eb('failures', '-', 1))
        .else(0)
        .end(),
    }))
    .where('key', '=', key)
    .execute();
}

// Rows of emails and networks not seen for a while mean nothing; deleting them now and then keeps the table as
// small as the current traffic (a scan of many emails leaves one row per email for a day).
export async function pruneThrottlesNowAndThen(store: Store, now: Date): Promise<void> {
  const last = lastPruned.get(store) ?? 0;
  if (now.getTime() - last < PRUNE_EVERY_MS) return;
  lastPruned.set(store, now.getTime());
  await store.db.deleteFrom('sign_in_throttles').where('expires_at', '<', now.toISOString()).execute();
}
