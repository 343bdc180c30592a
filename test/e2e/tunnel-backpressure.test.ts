/**
 * A client that stops reading while the database sends a lot: backpressure must reach back through the whole
 * chain (local proxy → relay → gateway → engine → FerretDB) instead of piling the replies up in memory on the way.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { serialize } from 'bson';
import { MongoClient } from 'mongodb';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { startTunnelBed, type TunnelBed, waitFor } from './tunnel-harness';

const DOCS = 8;
const DOC_BYTES = 1024 * 1024;
const PIPELINED = 12;
let bed: TunnelBed;
let handle: AccessHandle;

// Garbage waiting for collection would blur what is really held: collect before each sample.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heldBufferBytes(): number {
  gc();
  return process.memoryUsage().arrayBuffers;
}

function opMsg(requestId: number, command: Record<string, unknown>): Buffer {
  const body = serialize(command);
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + body.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(2013, 12);
  header.writeUInt32LE(0, 16);
  header.writeUInt8(0, 20);
  return Buffer.concat([header, body]);
}

describe('tunnel: backpressure end to end', () => {
  before(async () => {
    bed = await startTunnelBed();
    handle = await startAccess({ server: bed.server, token: bed.token, accountId: bed.account.id });
    const client = new MongoClient(handle.uri);
    try {
      const big = client.db('tunnel').collection('big');
      for (let i = 0; i < DOCS; i++) await big.insertOne({ _id: i as never, pad: 'x'.repeat(DOC_BYTES) });
    } finally {
      await client.close();
    }
  });
  after(async () => {
    await handle?.stop();
    await bed?.stop();
  });

  it('a client that stops reading holds the replies back instead of growing memory, and gets them all later', async (t) => {
    const socket: Socket = connect(handle.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause(); // this client never reads until told to
    await new Promise((resolve) => setTimeout(resolve, 500)); // let the setup's buffers be freed
    heldBufferBytes();
    const baseline = heldBufferBytes();
    for (let i = 1; i <= PIPELINED; i++) socket.write(opMsg(i, { find: 'big', filter: {}, batchSize: 1000, $db: 'tunnel' }));
    const totalReplyBytes = PIPELINED * DOCS * DOC_BYTES;

    let maxRelay = 0;
    let peakGrowth = 0;
    let settledGrowth = 0;
    for (let i = 0; i < 30; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      maxRelay = Math.max(maxRelay, bed.relay.stats().bufferedBytes);
      const growth = heldBufferBytes() - baseline;
      peakGrowth = Math.max(peakGrowth, growth);
      // The first second holds one reply being framed by the engine; after it the chain has stalled.
      if (i >= 10) settledGrowth = Math.max(settledGrowth, growth);
    }
    t.diagnostic(
      `relay buffered at most ${maxRelay} bytes; buffer memory grew by ${Math.round(peakGrowth / 1e6)} MB at peak, ` +
        `${Math.round(settledGrowth / 1e6)} MB once stalled, of ${totalReplyBytes / 1e6} MB of replies`,
    );
    assert.ok(maxRelay < 4 * 1024 * 1024, `the relay buffered ${maxRelay} bytes`);
    assert.ok(settledGrowth < totalReplyBytes / 4, `buffer memory grew by ${settledGrowth} bytes while the client read nothing`);

    // Reading again: every reply arrives, whole.
    let pending = Buffer.alloc(0);
    const replies: number[] = [];
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const length = pending.readInt32LE(0);
        replies.push(length);
        pending = pending.subarray(length);
      }
    });
    socket.resume();
    await waitFor(() => replies.length === PIPELINED, `${PIPELINED} replies`, 60_000);
    for (const length of replies) assert.ok(length > DOCS * DOC_BYTES, `a reply of ${length} bytes holds all ${DOCS} documents`);
    socket.destroy();
  });
});
