/**
 * The replica registry (./replica-registry.ts) on both stores: replicas see each other through their leases, a
 * clean stop leaves the list at once, a replica that stops renewing drops out when its lease passes, and two
 * replicas registered under one address are reported to the operator.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ReplicaInfo } from '../../protocol/gateway-channel';
import { describeOnBothDialects } from '../store/store-test-harness';
import { ReplicaRegistry } from './replica-registry';

const HEARTBEAT_MS = 100;

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const urls = (list: ReplicaInfo[]) => list.map((r) => r.url).sort();

describeOnBothDialects('replica registry', ({ freshStore }) => {
  it('replicas list each other; a clean stop leaves at once, a silent one when its lease passes', async () => {
    const { store } = await freshStore();
    const a = new ReplicaRegistry(store.db, { url: 'http://a:1', heartbeatMs: HEARTBEAT_MS });
    const b = new ReplicaRegistry(store.db, { url: 'http://b:1', heartbeatMs: HEARTBEAT_MS });
    const c = new ReplicaRegistry(store.db, { url: 'http://c:1', heartbeatMs: HEARTBEAT_MS });
    const warnings: string[] = [];
    for (const r of [a, b, c]) r.on('warning', (w) => warnings.push(w));
    await a.start();
    await b.start();
    await c.start();
    try {
      await until(() => urls(a.live()).length === 3, 'a to see all three');
      assert.deepEqual(urls(a.live()), ['http://a:1', 'http://b:1', 'http://c:1']);
      await b.stop();
      await until(() => urls(a.live()).length === 2 && urls(c.live()).length === 2, 'a and c to see b leave');
      assert.deepEqual(urls(c.live()), ['http://a:1', 'http://c:1']);
      // c dies without a word (SIGKILL): it stops renewing, its row is left behind.
      clearInterval((c as unknown as { timer: NodeJS.Timeout }).timer);
      await until(() => urls(a.live()).length === 1, 'c’s lease to pass', 3000);
      assert.deepEqual(urls(a.live()), ['http://a:1']);
      assert.deepEqual(warnings, [], 'distinct addresses: nothing to warn about');
    } finally {
      await a.stop();
      await c.stop();
    }
  });

  it('two replicas under one address are reported once each, naming the setting that fixes it', async () => {
    const { store } = await freshStore();
    const a = new ReplicaRegistry(store.db, { url: 'http://balancer:443', heartbeatMs: HEARTBEAT_MS });
    const b = new ReplicaRegistry(store.db, { url: 'http://balancer:443', heartbeatMs: HEARTBEAT_MS });
    const warnings: string[] = [];
    a.on('warning', (w) => warnings.push(`a: ${w}`));
    b.on('warning', (w) => warnings.push(`b: ${w}`));
    await a.start();
    await b.start();
    try {
      await until(() => warnings.length === 2, 'both replicas to warn');
      await new Promise((r) => setTimeout(r, 3 * HEARTBEAT_MS));
      assert.equal(warnings.length, 2, warnings.join('\n'));
      assert.match(warnings.join('\n'), new RegExp(`a: replica ${b.id} is registered at this replica's address too`));
      assert.match(warnings.join('\n'), new RegExp(`b: replica ${a.id} is registered at this replica's address too`));
      assert.match(warnings[0], /PORTCULLIS_REPLICA_URL/);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
