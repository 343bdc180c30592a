import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { COMPRESSOR_IDS } from './constants';
import { WireProtocolError } from './errors';
import { parseMessage } from './message';
import { decompressMessage, encodeOpCompressed, parseOpCompressed } from './op-compressed';
import { encodeOpMsg } from './op-msg';

function compressedRaw(originalOpCode: number, declaredSize: number, compressorId: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(25 + payload.length);
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(11, 4);
  out.writeInt32LE(2012, 12);
  out.writeInt32LE(originalOpCode, 16);
  out.writeInt32LE(declaredSize, 20);
  out[24] = compressorId;
  payload.copy(out, 25);
  return out;
}

const inner = encodeOpMsg({ requestId: 11, body: { find: 'items', filter: { a: 1 }, $db: 'app' } });
const rejects = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof WireProtocolError && message.test(e.message));

describe('OP_COMPRESSED', () => {
  it('decompresses zlib and noop back to the original message, and parseMessage marks it', () => {
    for (const id of [COMPRESSOR_IDS.zlib, COMPRESSOR_IDS.noop] as const) {
      const raw = encodeOpCompressed(inner, id);
      assert.deepEqual(parseOpCompressed(raw, 1000).originalOpCode, 2013);
      assert.deepEqual(decompressMessage(raw, 1000), inner);
      const parsed = parseMessage(raw, { maxMessageSize: 1000 });
      assert.equal(parsed.kind, 'msg');
      assert.equal(parsed.kind === 'msg' && parsed.wasCompressed, true);
      assert.equal(parsed.kind === 'msg' && parsed.msg.body.find, 'items');
      assert.equal(parseMessage(raw, { maxMessageSize: 1000, decompress: false }).kind, 'compressed');
    }
  });

  it('refuses snappy and zstd with a message saying compression is not supported', () => {
    rejects(
      () => decompressMessage(compressedRaw(2013, 10, 1, Buffer.alloc(10)), 1000),
      /snappy compression is not supported through the gateway/,
    );
    rejects(() => decompressMessage(compressedRaw(2013, 10, 3, Buffer.alloc(10)), 1000), /zstd compression is not supported/);
    rejects(() => decompressMessage(compressedRaw(2013, 10, 9, Buffer.alloc(10)), 1000), /unknown compressor id 9/);
  });

  it('refuses a declared size over the cap before inflating', () => {
    rejects(
      () => decompressMessage(compressedRaw(2013, 2_000_000_000, 2, deflateSync(Buffer.alloc(10))), 48_000_000),
      /exceeds the maximum message size/,
    );
  });

  it('stops a decompression bomb at the declared size', () => {
    const bomb = deflateSync(Buffer.alloc(10_000_000));
    assert.ok(bomb.length < 20_000);
    rejects(() => decompressMessage(compressedRaw(2013, 1000, 2, bomb), 48_000_000), /inflates past the declared size/);
  });

  it('refuses a size mismatch, nested compression and invalid zlib data', () => {
    rejects(
      () => decompressMessage(compressedRaw(2013, 500, 2, deflateSync(Buffer.alloc(10))), 1000),
      /decompressed to 10 bytes, but 500 were declared/,
    );
    rejects(() => decompressMessage(compressedRaw(2012, 10, 0, Buffer.alloc(10)), 1000), /nested compression/);
    rejects(() => decompressMessage(compressedRaw(2013, 10, 2, Buffer.from('not zlib at all')), 1000), /zlib data is invalid/);
    const doubly = encodeOpCompressed(inner);
    const wrapped = compressedRaw(2013, doubly.length - 16, 0, doubly.subarray(16));
    // The inner message claims to be OP_MSG but the bytes are another compressed envelope: parsing must fail cleanly.
    rejects(() => parseMessage(wrapped, { maxMessageSize: 1000 }), /OP_MSG/);
  });
});
