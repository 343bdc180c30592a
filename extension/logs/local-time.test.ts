import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

describe('local times', () => {
  const savedTz = process.env.TZ;
  let time: typeof import('./local-time');
  before(async () => {
    // A zone an hour and a half off UTC (and never equal to it) shows that nothing prints UTC.
    process.env.TZ = 'Asia/Kolkata';
    time = await import('./local-time');
  });
  after(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  it('prints times in the viewer’s zone, in one fixed shape, with the offset said once', () => {
    assert.equal(time.formatLocalDateTime('2026-01-01T10:00:05.000Z'), '2026-01-01 15:30:05');
    assert.equal(time.formatLocalTime('2026-01-01T20:00:05.000Z'), '01:30:05');
    assert.equal(time.formatLocalDate('2026-01-01T20:00:05.000Z'), '2026-01-02');
    assert.equal(time.utcOffsetLabel(new Date('2026-01-01T00:00:00Z')), 'UTC+05:30');
  });

  it('says how much time is left until an end time, and when it has passed', () => {
    const now = new Date('2026-01-01T10:00:00.000Z');
    assert.equal(time.formatTimeLeft('2026-01-01T10:45:00.000Z', now), '45m left');
    assert.equal(time.formatTimeLeft('2026-01-01T09:59:00.000Z', now), 'expired');
    assert.equal(time.formatExpiry('2026-01-01T11:30:00.000Z', now), '2026-01-01 17:00:00 (in 1h 30m)');
    assert.equal(time.formatExpiry('2026-01-01T09:00:00.000Z', now), '2026-01-01 14:30:00 (passed)');
  });

  it('leaves a value that is not a time as it is', () => {
    assert.equal(time.formatLocalDateTime('soon'), 'soon');
    assert.equal(time.formatTimeLeft('soon'), '');
  });
});
