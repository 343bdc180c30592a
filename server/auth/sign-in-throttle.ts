/**
 * The sign-in limits: how many passwords are checked, for whom, and how long the next one waits.
 *
 * Three scopes count attempts, each as a row of `sign_in_throttles`:
 * - pair: one email from one client network (./client-network). A few attempts are free, then each waits twice as
 *   long as the one before, up to a cap. This is the limit a guesser meets, and the only one that ever waits long.
 * - account: one email from all networks together. A ceiling for a guesser spread over many networks; it only
 *   slows (its wait is seconds, never minutes), so it cannot be used to lock the user out.
 * - network: one network, all emails together. The same ceiling, for one network trying many emails.
 * An email that signed in successfully from a network recently is exempt there from both ceilings: an attacker
 * elsewhere cannot slow the user down at the place they usually sign in from.
 *
 * An attempt is counted as a failure when it is let through, before its password is checked, and a success gives
 * that back. The decision and the count are one locked transaction (Store.lockedTransaction), so concurrent
 * attempts, here or on another control plane sharing the database, can never check more passwords than the limit.
 */
import type { Store } from '../store/store';
import {
  currentCount,
  delayAfterFailures,
  EPOCH,
  giveBackFailure,
  loadThrottleRows,
  pruneThrottlesNowAndThen,
  upsertThrottle,
} from './throttle-rows';

export { delayAfterFailures, type ScopePolicy } from './throttle-rows';

export const SIGN_IN_POLICY = Object.freeze({
  pair: Object.freeze({ freeFailures: 5, firstDelaySeconds: 60, maxDelaySeconds: 15 * 60 }),
  account: Object.freeze({ freeFailures: 20, firstDelaySeconds: 1, maxDelaySeconds: 30 }),
  network: Object.freeze({ freeFailures: 20, firstDelaySeconds: 1, maxDelaySeconds: 30 }),
  /** A scope's count starts again this long after its last failure. */
  forgetAfterSeconds: 24 * 3600,
  /** A successful sign-in exempts its email and network from the account and network ceilings for this long. */
  knownNetworkSeconds: 30 * 24 * 3600,
});

type ScopeKind = 'pair' | 'account' | 'network';
const KINDS: readonly ScopeKind[] = ['pair', 'account', 'network'];

/** Who is signing in: a normalized email and the client's network (`clientNetwork`). */
export interface SignInAttempt {
  email: string;
  network: string;
}

export type Admission =
  /** Check the password; then call `recordSignInSuccess` with this admission if it was right. */
  | { admitted: true; counted: readonly ScopeKind[] }
  /** Do not check the password. `scope` is the one that asked for the longest wait. */
  | { admitted: false; retryAfterSeconds: number; scope: ScopeKind };

function keysOf(attempt: SignInAttempt): Record<ScopeKind, string> {
  return {
    pair: `pair:${attempt.email} ${attempt.network}`,
    account: `account:${attempt.email}`,
    network: `network:${attempt.network}`,
  };
}

/**
 * Decides whether this attempt's password may be checked, and if so counts it. The clock is read once the locks
 * are held: under contention the wait for them is part of the attempt, and the times written stay in order.
 */
export async function admitSignIn(store: Store, attempt: SignInAttempt, clock: () => Date): Promise<Admission> {
  const keys = keysOf(attempt);
  let now = clock();
  const admission = await store.lockedTransaction(Object.values(keys), async (trx): Promise<Admission> => {
    now = clock();
    const nowMs = now.getTime();
    const rows = await loadThrottleRows(trx, Object.values(keys));
    const pair = rows.get(keys.pair);
    const known = pair?.last_success_at != null && nowMs - Date.parse(pair.last_success_at) < SIGN_IN_POLICY.knownNetworkSeconds * 1000;
    const counted: ScopeKind[] = known ? ['pair'] : [...KINDS];

    let longest: { ms: number; scope: ScopeKind } | undefined;
    for (const kind of counted) {
      const wait = Date.parse(currentCount(rows.get(keys[kind]), nowMs, SIGN_IN_POLICY.forgetAfterSeconds).nextAttemptAt) - nowMs;
      if (wait > 0 && (!longest || wait > longest.ms)) longest = { ms: wait, scope: kind };
    }
    if (longest) return { admitted: false, retryAfterSeconds: Math.ceil(longest.ms / 1000), scope: longest.scope };

    for (const kind of counted) {
      const row = rows.get(keys[kind]);
      const failures = currentCount(row, nowMs, SIGN_IN_POLICY.forgetAfterSeconds).failures + 1;
      const delay = delayAfterFailures(failures, SIGN_IN_POLICY[kind]);
      await upsertThrottle(trx, keys[kind], {
        failures,
        next_attempt_at: delay > 0 ? new Date(nowMs + delay * 1000).toISOString() : EPOCH,
        last_failure_at: now.toISOString(),
        last_success_at: row?.last_success_at ?? null,
        expires_at: expiry(nowMs, row?.last_success_at ?? null),
      });
    }
    return { admitted: true, counted };
  });
  await pruneThrottlesNowAndThen(store, now);
  return admission;
}

/** The password was right: the pair starts again (and is known from now on); the ceilings get their count back. */
export async function recordSignInSuccess(store: Store, attempt: SignInAttempt, admission: Admission, now: Date): Promise<void> {
  if (!admission.admitted) return;
  const keys = keysOf(attempt);
  const time = now.toISOString();
  await store.lockedTransaction(Object.values(keys), async (trx) => {
    await upsertThrottle(trx, keys.pair, {
      failures: 0,
      next_attempt_at: EPOCH,
      last_failure_at: null,
      last_success_at: time,
      expires_at: expiry(now.getTime(), time),
    });
    for (const kind of admission.counted) {
      if (kind !== 'pair') await giveBackFailure(trx, keys[kind]);
    }
  });
}

function expiry(nowMs: number, lastSuccessAt: string | null): string {
  const forgotten = nowMs + SIGN_IN_POLICY.forgetAfterSeconds * 1000;
  const unknown = lastSuccessAt ? Date.parse(lastSuccessAt) + SIGN_IN_POLICY.knownNetworkSeconds * 1000 : 0;
  return new Date(Math.max(forgotten, unknown)).toISOString();
}
