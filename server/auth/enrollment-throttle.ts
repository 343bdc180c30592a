/**
 * The limit on gateway enrollments per client network, counted in the database so that every replica behind a
 * load balancer applies the same count. Enrollment tokens are long random secrets, so guessing one is hopeless;
 * the limit keeps a client that tries anyway from costing the database a lookup per request without end.
 *
 * As for sign-in, an attempt counts as a failure when it is let through and a success gives it back, in one locked
 * transaction: concurrent attempts on any replica can never check more tokens than the limit.
 */
import type { Store } from '../store/store';
import {
  currentCount,
  delayAfterFailures,
  EPOCH,
  giveBackFailure,
  loadThrottleRows,
  pruneThrottlesNowAndThen,
  type ScopePolicy,
  upsertThrottle,
} from './throttle-rows';

export const ENROLLMENT_POLICY: Readonly<ScopePolicy & { forgetAfterSeconds: number }> = Object.freeze({
  freeFailures: 20,
  firstDelaySeconds: 1,
  maxDelaySeconds: 15 * 60,
  forgetAfterSeconds: 15 * 60,
});

export type EnrollmentAdmission = { admitted: true } | { admitted: false; retryAfterSeconds: number };

const keyOf = (network: string) => `enroll:${network}`;

/** Whether an enrollment from `network` may be checked now; if so it is counted (give it back on success). */
export async function admitEnrollment(store: Store, network: string, clock: () => Date): Promise<EnrollmentAdmission> {
  const key = keyOf(network);
  let now = clock();
  const admission = await store.lockedTransaction([key], async (trx): Promise<EnrollmentAdmission> => {
    now = clock();
    const nowMs = now.getTime();
    const row = (await loadThrottleRows(trx, [key])).get(key);
    const count = currentCount(row, nowMs, ENROLLMENT_POLICY.forgetAfterSeconds);
    const wait = Date.parse(count.nextAttemptAt) - nowMs;
    if (wait > 0) return { admitted: false, retryAfterSeconds: Math.ceil(wait / 1000) };
    const failures = count.failures + 1;
    const delay = delayAfterFailures(failures, ENROLLMENT_POLICY);
    await upsertThrottle(trx, key, {
      failures,
      next_attempt_at: delay > 0 ? new Date(nowMs + delay * 1000).toISOString() : EPOCH,
      last_failure_at: now.toISOString(),
      last_success_at: row?.last_success_at ?? null,
      expires_at: new Date(nowMs + ENROLLMENT_POLICY.forgetAfterSeconds * 1000 + delay * 1000).toISOString(),
    });
    return { admitted: true };
  });
  await pruneThrottlesNowAndThen(store, now);
  return admission;
}

/** The token was good: the attempt is not a failure after all. */
export async function recordEnrollmentSuccess(store: Store, network: string): Promise<void> {
  const key = keyOf(network);
  await store.lockedTransaction([key], (trx) => giveBackFailure(trx, key));
}
