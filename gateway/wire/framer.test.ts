import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WireProtocolError } from './errors';
import { MessageFramer } from './framer';
import { encodeOpMsg } from './op-msg';

const message = (n: number, padding = 0) => encodeOpMsg({ requestId: n, body: { ping: 1, pad: 'x'.repeat(padding), $db: 'admin' } });

describe('MessageFramer', () => {
  it('returns whole messages of a chunk as subarrays of it, without copying', () => {
    const a = message(1);
    const b = message(2);
    const chunk = Buffer.concat([a, b]);
    const out = new MessageFramer({ maxMessageSize: 1000 }).push(chunk);
    assert.equal(out.length, 2);
    assert.deepEqual(out[0], a);
    assert.deepEqual(out[1], b);
    assert.equal(out[0].buffer, chunk.buffer, 'same memory as the chunk');
    assert.equal(out[1].byteOffset, chunk.byteOffset + a.length);
  });

  it('reassembles messages split at every possible byte, including inside the length prefix', () => {
    const stream = Buffer.concat([message(1), message(2, 300), message(3)]);
    for (let cut = 1; cut < stream.length; cut++) {
      const framer = new MessageFramer({ maxMessageSize: 1000 });
      const out = [...framer.push(stream.subarray(0, cut)), ...framer.push(stream.subarray(cut))];
      assert.deepEqual(Buffer.concat(out), stream, `cut at ${cut}`);
      assert.equal(out.length, 3);
      assert.equal(framer.bufferedBytes, 0);
    }
  });

  it('reassembles a stream fed one byte at a time', () => {
    const stream = Buffer.concat([message(1), message(2, 50)]);
    const framer = new MessageFramer({ maxMessageSize: 1000 });
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...framer.push(stream.subarray(i, i + 1)));
    assert.deepEqual(out, [message(1), message(2, 50)]);
  });

  it('rejects a length over the cap as soon as the prefix arrives, before buffering the message', () => {
    const framer = new MessageFramer({ maxMessageSize: 1000 });
    const prefix = Buffer.alloc(4);
    prefix.writeInt32LE(2_000_000_000);
    assert.throws(
      () => framer.push(prefix),
      (e: unknown) => e instanceof WireProtocolError && e.code === 10334 && /exceeds the maximum/.test(e.message),
    );
    assert.equal(framer.bufferedBytes, 0);
    assert.throws(() => framer.push(message(1)), WireProtocolError, 'a broken stream stays broken');
  });

  it('rejects negative and shorter-than-header lengths, also when split across chunks', () => {
    for (const length of [-1, 0, 12, 15]) {
      const bytes = Buffer.alloc(4);
      bytes.writeInt32LE(length);
      const framer = new MessageFramer({ maxMessageSize: 1000 });
      framer.push(bytes.subarray(0, 2));
      assert.throws(
        () => framer.push(bytes.subarray(2)),
        (e: unknown) => e instanceof WireProtocolError && (length < 0 ? /negative/ : /shorter than a header/).test(e.message),
      );
    }
    assert.throws(
      () => new MessageFramer({ maxMessageSize: 1000 }).push(Buffer.from([12, 0, 0, 0])),
      /message length 12 is shorter than a header/,
    );
  });

  it('applies a cap changed after construction (the engine sets it from the server hello)', () => {
    const framer = new MessageFramer({ maxMessageSize: 1000 });
    framer.maxMessageSize = 50;
    assert.throws(() => framer.push(message(1, 100)), /exceeds the maximum message size of 50/);
  });
});
