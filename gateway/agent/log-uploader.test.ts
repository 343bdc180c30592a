import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GatewayToServer } from '../../protocol/gateway-channel';
import type { SessionLogEvent } from '../../protocol/session-log';
import { LogUploader } from './log-uploader';

type LogsMessage = Extract<GatewayToServer, { type: 'logs' }>;

function event(n: number): SessionLogEvent {
  return { kind: 'connection', phase: 'opened', time: new Date().toISOString(), connectionId: `c${n}` };
}

describe('log uploader', () => {
  it('numbers events per session, batches them, and keeps batches until acknowledged', () => {
    const sent: LogsMessage[] = [];
    let online = true;
    const uploader = new LogUploader({ send: (m) => online && sent.push(m) > 0, maxBatchEvents: 3, flushIntervalMs: 60_000 });
    try {
      for (let i = 0; i < 4; i++) uploader.add('ses_a', event(i));
      uploader.add('ses_b', event(9));
      uploader.flush();
      const seqs = sent.map((m) => [m.batch.sessionId, m.batch.events.map((e) => e.seq)]);
      assert.deepEqual(seqs, [
        ['ses_a', [1, 2, 3]],
        ['ses_a', [4]],
        ['ses_b', [1]],
      ]);
      assert.ok(sent.every((m) => m.batch.origin === uploader.origin));
      assert.equal(uploader.buffered, 5);
      uploader.acknowledge(sent[0].batchId);
      assert.equal(uploader.buffered, 2);
      // After a reconnect the unacknowledged batches go again, unchanged (same ids: the server dedupes).
      online = false;
      uploader.add('ses_a', event(5));
      uploader.flush();
      online = true;
      const before = sent.length;
      uploader.resendAll();
      const resent = sent.slice(before);
      assert.deepEqual(
        resent.map((m) => m.batch.events.map((e) => e.seq)),
        [[4], [1], [5]],
      );
      assert.equal(resent[0].batchId, sent[1].batchId);
    } finally {
      uploader.stop();
    }
  });

  it('reports full at the bound, and room again once acknowledgements free 10%', () => {
    const sent: LogsMessage[] = [];
    const states: boolean[] = [];
    const uploader = new LogUploader({
      send: (m) => sent.push(m) > 0,
      maxBatchEvents: 10,
      maxBufferedEvents: 100,
      flushIntervalMs: 60_000,
      onFull: (full) => states.push(full),
    });
    try {
      for (let i = 0; i < 100; i++) uploader.add('ses_a', event(i));
      assert.equal(uploader.isFull, true);
      assert.deepEqual(states, [true]);
      uploader.acknowledge(sent[0].batchId);
      assert.equal(uploader.isFull, false);
      assert.deepEqual(states, [true, false]);
    } finally {
      uploader.stop();
    }
  });
});
