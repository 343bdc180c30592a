/**
 * What one client can cost the gateway, through the real tunnel: partly received messages share a memory budget,
 * a message that stops arriving is cut off, compressed messages are refused before anything is inflated, and a
 * command nested too deep never reaches the database. Each time another connection (the victim) keeps working;
 * its latency is asserted loosely (behaviour, not a benchmark).
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { RawWireClient, replyBody } from '../../gateway/test/harness';
import { deeplyNested, element, rawOpMsg } from '../../gateway/test/raw-messages';
import { COMPRESSOR_IDS } from '../../gateway/wire/constants';
import { encodeOpCompressed } from '../../gateway/wire/op-compressed';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { startTunnelBed, type TunnelBed } from '../e2e/tunnel-harness';

const BUDGET = 8 * 1024 * 1024;
const TIMEOUT_MS = 1500;

let bed: TunnelBed;
let handle: AccessHandle;
let victim: RawWireClient;
let requestId = 1;

/** One ping on the victim connection: its round trip in ms. */
async function victimPing(): Promise<number> {
  const started = performance.now();
  victim.send(rawOpMsg([element('ping', 1), element('$db', 'admin')], { requestId: requestId++ }));
  const body = replyBody(await victim.next());
  assert.equal(body.ok, 1);
  return performance.now() - started;
}

/** The header of a message declaring `length` bytes, and `filler` bytes of it. */
function partialMessage(length: number, filler: number): Buffer {
  const out = Buffer.alloc(16 + filler, 0x61);
  out.writeInt32LE(length, 0);
  out.writeInt32LE(requestId++, 4);
  out.writeInt32LE(0, 8);
  out.writeInt32LE(2013, 12);
  return out;
}

describe('security: limits at the gateway', () => {
  before(async () => {
    bed = await startTunnelBed({
      gateway: { limits: { maxPendingBytes: BUDGET, messageTimeoutMs: TIMEOUT_MS, messageTimeoutMsPerMiB: 0 } },
    });
    handle = await startAccess({
      server: bed.server,
      token: bed.token,
      accountId: bed.account.id,
      clientAgent: 'limits-test',
      pollIntervalMs: 500,
    });
    victim = await RawWireClient.open(handle.port);
    await victimPing();
  });
  after(async () => {
    victim?.close();
    await handle?.stop().catch(() => {});
    await bed?.stop();
  });

  it('partly received messages share one budget: the connection that would exceed it gets ExceededMemoryLimit', async () => {
    const stalled: RawWireClient[] = [];
    try {
      // Each holds 3 MiB of a 10 MiB message; the third goes over the 8 MiB budget.
      for (let i = 0; i < 3; i++) {
        const client = await RawWireClient.open(handle.port);
        stalled.push(client);
        client.send(partialMessage(10 * 1024 * 1024, 3 * 1024 * 1024));
        await new Promise((r) => setTimeout(r, 300));
      }
      const third = stalled[2];
      const reply = replyBody(await third.next(5000));
      assert.equal(reply.codeName, 'ExceededMemoryLimit', JSON.stringify(reply));
      assert.match(reply.errmsg, /partly received messages/);
      await third.waitClosed(5000);
      assert.equal(stalled[0].closed, false, 'the connections within the budget are still open');
      assert.ok((await victimPing()) < 1000, 'the victim is served');
    } finally {
      for (const client of stalled) client.close();
    }
  });

  it('a message that stops arriving is cut off after the timeout, one byte a second included', async () => {
    const slow = await RawWireClient.open(handle.port);
    const dribble = await RawWireClient.open(handle.port);
    const bytes = partialMessage(64, 20);
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < bytes.length && !dribble.closed) dribble.send(bytes.subarray(sent, ++sent));
    }, 200);
    try {
      slow.send(partialMessage(1000, 100));
      const started = performance.now();
      const reply = replyBody(await slow.next(10_000));
      assert.equal(reply.codeName, 'NetworkTimeout');
      assert.match(reply.errmsg, /a message stopped arriving: \d+ of 1000 bytes/);
      const waited = performance.now() - started;
      assert.ok(waited >= TIMEOUT_MS - 200 && waited < TIMEOUT_MS + 5000, `cut after ${Math.round(waited)} ms`);
      await slow.waitClosed(5000);
      await dribble.waitClosed(10_000);
      assert.ok(sent < bytes.length, 'the dribbling connection was closed before it finished');
      assert.ok((await victimPing()) < 1000);
    } finally {
      clearInterval(timer);
      slow.close();
      dribble.close();
    }
  });

  it('compressed messages are refused before they are inflated: 30 zlib bombs do not stall the victim', async () => {
    const inner = rawOpMsg([element('insert', 'c'), element('pad', 'x'.repeat(64 * 1024 * 1024)), element('$db', 'app')]);
    const bomb = encodeOpCompressed(inner, COMPRESSOR_IDS.zlib);
    assert.ok(bomb.length < 200_000, `the bomb is small (${bomb.length} bytes)`);
    const attackers = await Promise.all(Array.from({ length: 30 }, () => RawWireClient.open(handle.port)));
    try {
      for (const attacker of attackers) attacker.send(bomb);
      const latencies: number[] = [];
      for (let i = 0; i < 10; i++) latencies.push(await victimPing());
      for (const attacker of attackers) {
        const reply = replyBody(await attacker.next(10_000));
        assert.match(reply.errmsg, /compressed messages are not accepted/);
        await attacker.waitClosed(10_000);
      }
      assert.ok(Math.max(...latencies) < 1000, `victim pings: ${latencies.map(Math.round).join(', ')} ms`);
    } finally {
      for (const attacker of attackers) attacker.close();
    }
  });

  it('a filter nested a million levels deep is refused with Overflow; the database and the connection live on', async () => {
    const client = await RawWireClient.open(handle.port);
    try {
      const filter = Buffer.concat([Buffer.from([0x03]), Buffer.from('filter\0'), deeplyNested(1_000_000)]);
      client.send(rawOpMsg([element('find', 'c'), filter, element('$db', 'app')], { requestId: requestId++ }));
      const reply = replyBody(await client.next(20_000));
      assert.equal(reply.codeName, 'Overflow');
      assert.match(reply.errmsg, /nested more than 200 levels/);
      client.send(rawOpMsg([element('ping', 1), element('$db', 'admin')], { requestId: requestId++ }));
      assert.equal(replyBody(await client.next()).ok, 1, 'the same connection still works');
      assert.ok((await victimPing()) < 1000);
    } finally {
      client.close();
    }
  });
});
