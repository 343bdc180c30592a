/**
 * Events between replicas (./replica-events.ts) on a real PostgreSQL: what one replica publishes reaches the
 * others through NOTIFY and itself once; malformed payloads are ignored; a listening connection that the database
 * cuts comes back and says `resync`. On SQLite (one replica) an event reaches this process only.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { it } from 'node:test';
import { sql } from 'kysely';
import { describeOnBothDialects } from '../store/store-test-harness';
import { REPLICA_EVENTS_CHANNEL, type ReplicaEventFrom, ReplicaEvents } from './replica-events';

function collect(events: ReplicaEvents): ReplicaEventFrom[] {
  const seen: ReplicaEventFrom[] = [];
  events.on('event', (event) => seen.push(event));
  return seen;
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describeOnBothDialects('replica events', ({ dialect, freshStore }) => {
  it('an event published on one replica reaches it once and every other replica within a second', async () => {
    const { store, options } = await freshStore();
    const a = new ReplicaEvents(store, { replicaId: 'rep_a', databaseUrl: options.url });
    const b = new ReplicaEvents(store, { replicaId: 'rep_b', databaseUrl: options.url });
    const seenByA = collect(a);
    const seenByB = collect(b);
    await Promise.all([a.start(), b.start()]);
    try {
      const started = Date.now();
      await a.publish({ type: 'session.ended', sessionId: 'ses_1', reason: 'terminated', gatewayId: 'gw_1' });
      await a.publish({ type: 'gateway.deleted', gatewayId: 'gw_2' });
      assert.deepEqual(seenByA, [
        { type: 'session.ended', sessionId: 'ses_1', reason: 'terminated', gatewayId: 'gw_1', from: 'rep_a' },
        { type: 'gateway.deleted', gatewayId: 'gw_2', from: 'rep_a' },
      ]);
      if (dialect === 'sqlite') {
        // One replica: nothing leaves the process.
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(seenByB, []);
        return;
      }
      await until(() => seenByB.length === 2, 'the other replica to hear both events', 1000);
      assert.deepEqual(seenByB, seenByA, 'the same events, in order, naming the replica they happened on');
      assert.ok(Date.now() - started < 1000);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(seenByA.length, 2, 'a replica does not hear its own events back');
    } finally {
      await a.close();
      await b.close();
    }
  });

  if (dialect === 'sqlite') return;

  it('ignores malformed payloads on the channel, and listens again (with a resync) after the database cut it', async () => {
    const { store, options } = await freshStore();
    const b = new ReplicaEvents(store, { replicaId: 'rep_b', databaseUrl: options.url });
    const seen = collect(b);
    let resyncs = 0;
    b.on('resync', () => resyncs++);
    await b.start();
    try {
      assert.equal(resyncs, 1, 'the first LISTEN counts as a resync (whatever happened before is in the database)');
      for (const payload of [
        'not json',
        '[]',
        JSON.stringify({ type: 'session.ended', sessionId: 'ses_1', reason: 'because', gatewayId: 'gw', from: 'rep_x' }),
        JSON.stringify({ type: 'session.ended', sessionId: 7, reason: 'idle', gatewayId: 'gw', from: 'rep_x' }),
        JSON.stringify({ type: 'unknown', gatewayId: 'gw', from: 'rep_x' }),
      ]) {
        await sql`select pg_notify(${REPLICA_EVENTS_CHANNEL}, ${payload})`.execute(store.db);
      }
      await sql`select pg_notify(${REPLICA_EVENTS_CHANNEL}, ${JSON.stringify({ type: 'gateway.deleted', gatewayId: 'gw_ok', from: 'rep_x' })})`.execute(
        store.db,
      );
      await until(() => seen.length > 0, 'the well-formed event');
      assert.deepEqual(seen, [{ type: 'gateway.deleted', gatewayId: 'gw_ok', from: 'rep_x' }]);

      // The database ends the listening connection (a restart, a failover, an idle timeout of a pooler).
      const resynced = once(b, 'resync');
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where query ilike ${`LISTEN ${REPLICA_EVENTS_CHANNEL}%`}`.execute(
        store.db,
      );
      await resynced;
      assert.equal(resyncs, 2);
      const a = new ReplicaEvents(store, { replicaId: 'rep_a', databaseUrl: options.url });
      await a.publish({ type: 'session.ended', sessionId: 'ses_2', reason: 'idle', gatewayId: 'gw_3' });
      await until(() => seen.length === 2, 'an event after the reconnect');
      assert.equal(seen[1].type === 'session.ended' && seen[1].sessionId, 'ses_2');
    } finally {
      await b.close();
    }
  });
});
