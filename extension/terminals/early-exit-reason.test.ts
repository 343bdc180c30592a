import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { findFailedConnection, lastFailedConnection } from './early-exit-reason';

const at = '2026-01-01T10:00:00.000Z';
const failed = (seq: number, message: string): StoredSessionLogEvent => ({
  sessionId: 'ses_1',
  seq,
  kind: 'connection',
  phase: 'failed',
  time: at,
  connectionId: `c${seq}`,
  message,
});
const opened = (seq: number): StoredSessionLogEvent => ({
  sessionId: 'ses_1',
  seq,
  kind: 'connection',
  phase: 'opened',
  time: at,
  connectionId: 'c',
});

describe('the gateway’s reason for an early exit', () => {
  it('is the last failed connection after the ones already told', () => {
    const events = [failed(1, 'first'), opened(2), failed(4, 'latest'), failed(3, 'older')];
    assert.deepEqual(lastFailedConnection(events, 0), { seq: 4, message: 'latest' });
    assert.equal(lastFailedConnection(events, 4), undefined);
    assert.equal(lastFailedConnection([opened(1)], 0), undefined);
  });

  it('is waited for while the gateway uploads it, and given up on quietly when the log cannot be read', async () => {
    const events: StoredSessionLogEvent[] = [opened(1)];
    let reads = 0;
    const client = {
      async getSessionLogs() {
        reads++;
        if (reads === 3) events.push(failed(2, 'could not authenticate'));
        return { items: [...events] };
      },
    };
    assert.deepEqual(await findFailedConnection(client, 'ses_1', 0, { intervalMs: 5 }), { seq: 2, message: 'could not authenticate' });
    assert.equal(reads, 3);
    const broken = {
      async getSessionLogs(): Promise<never> {
        throw new Error('offline');
      },
    };
    assert.equal(await findFailedConnection(broken, 'ses_1', 0, { intervalMs: 5 }), undefined);
    assert.equal(
      await findFailedConnection({ getSessionLogs: async () => ({ items: [] }) }, 'ses_1', 0, { attempts: 2, intervalMs: 5 }),
      undefined,
    );
  });
});
