/**
 * The control plane restarts in the middle of a session (same port, same data folder): the gateway reconnects
 * by itself, the same local address serves new connections, and every log event arrives exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { startAccess } from '../../proxy-core/access';
import { startTunnelBed, type TunnelBed, waitFor } from './tunnel-harness';

let bed: TunnelBed;

describe('tunnel: control plane restart mid-session', () => {
  before(async () => {
    // Batches leave the gateway once a second here, so events are surely waiting when the control plane goes.
    bed = await startTunnelBed({ gateway: { logs: { flushIntervalMs: 1000 } } });
  });
  after(() => bed?.stop());

  it('reconnects the gateway, keeps the local address working, and loses no log event', async (t) => {
    const handle = await startAccess({ server: bed.server, token: bed.token, accountId: bed.account.id, pollIntervalMs: 500 });
    const ended: string[] = [];
    handle.on('ended', (event) => ended.push(event.reason));
    const before = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000 });
    const firstRun = 25;
    try {
      const items = before.db('tunnel').collection('restart');
      for (let i = 0; i < firstRun; i++) await items.insertOne({ phase: 'before', i });
    } finally {
      await before.close(true);
    }

    let bufferedWhileDown = 0;
    await bed.restartControlPlane(async () => {
      await waitFor(() => bed.agent.status() !== 'online', 'the gateway to notice the control plane is gone');
      bufferedWhileDown = bed.agent.stats().bufferedLogEvents;
    });
    t.diagnostic(`log events held by the gateway while the control plane was down: ${bufferedWhileDown}`);
    assert.ok(bufferedWhileDown > 0, 'the restart should have caught events not yet acknowledged');
    await waitFor(() => bed.agent.status() === 'online', 'the gateway to reconnect', 30_000);

    const secondRun = 15;
    const afterClient = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000 });
    try {
      const items = afterClient.db('tunnel').collection('restart');
      for (let i = 0; i < secondRun; i++) await items.insertOne({ phase: 'after', i });
      assert.equal(await items.countDocuments({}), firstRun + secondRun);
    } finally {
      await afterClient.close(true);
    }
    assert.deepEqual(ended, [], 'the session must survive the restart');

    const sessionId = handle.session.id;
    const inserts = async () => (await bed.logs(sessionId)).filter((e) => e.kind === 'command' && e.command === 'insert').length;
    await waitFor(async () => (await inserts()) >= firstRun + secondRun, 'every insert in the session log', 30_000);
    await waitFor(() => bed.agent.stats().bufferedLogEvents === 0, 'the gateway to have every batch acknowledged');
    const events = await bed.logs(sessionId);
    assert.equal(await inserts(), firstRun + secondRun, 'each insert exactly once');
    // Numbers are dense per origin: a gap would be a lost event.
    const byOrigin = new Map<string, number[]>();
    for (const event of events) {
      const origin = (event as { origin?: string }).origin ?? bed.agent.origin;
      byOrigin.set(origin, [...(byOrigin.get(origin) ?? []), event.seq]);
    }
    for (const [origin, seqs] of byOrigin) {
      const sorted = [...seqs].sort((a, b) => a - b);
      assert.deepEqual(
        sorted,
        sorted.map((_, i) => i + 1),
        `events of ${origin} are numbered 1..n without gaps`,
      );
    }
    const opened = events.filter((e) => e.kind === 'connection' && e.phase === 'opened').length;
    const closed = events.filter((e) => e.kind === 'connection' && e.phase === 'closed').length;
    assert.equal(closed, opened, 'every connection that opened has its close recorded, including those cut by the restart');
    await handle.stop();
  });
});
