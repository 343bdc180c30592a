import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailureRateLimiter } from './rate-limiter';

describe('failure rate limiter', () => {
  it('allows up to the limit in the window, then says how long to wait, and forgets failures as they age out', () => {
    let now = 1_000_000;
    const limiter = new FailureRateLimiter({ maxFailures: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      assert.equal(limiter.retryAfterSeconds('k'), 0);
      limiter.recordFailure('k');
      now += 10_000;
    }
    // Failures at 0 s, 10 s, 20 s; now 30 s: the oldest leaves the window at 60 s.
    assert.equal(limiter.retryAfterSeconds('k'), 30);
    assert.equal(limiter.retryAfterSeconds('other'), 0);
    now += 30_001;
    assert.equal(limiter.retryAfterSeconds('k'), 0);
  });

  it('reset clears a key', () => {
    const limiter = new FailureRateLimiter({ maxFailures: 1, windowMs: 60_000 });
    limiter.recordFailure('k');
    assert.ok(limiter.retryAfterSeconds('k') > 0);
    limiter.reset('k');
    assert.equal(limiter.retryAfterSeconds('k'), 0);
  });
});
