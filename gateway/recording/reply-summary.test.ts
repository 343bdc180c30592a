import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Long } from 'bson';
import { OP_REPLY_FLAGS } from '../wire/constants';
import { WireProtocolError } from '../wire/errors';
import { encodeOpCompressed } from '../wire/op-compressed';
import { encodeOpMsg } from '../wire/op-msg';
import { encodeOpReply } from '../wire/op-reply';
import { summarizeReply } from './reply-summary';

const reply = (body: object) => encodeOpMsg({ requestId: 2, responseTo: 1, body });

describe('summarizeReply', () => {
  it('counts a cursor firstBatch and reads the cursor id', () => {
    const docs = Array.from({ length: 25 }, (_, i) => ({ _id: i, payload: 'x'.repeat(i) }));
    const s = summarizeReply(reply({ cursor: { firstBatch: docs, id: Long.fromString('1234567890123'), ns: 'a.b' }, ok: 1 }));
    assert.deepEqual(s, { ok: true, documents: 25, cursorId: 1234567890123n });
    assert.deepEqual(summarizeReply(reply({ cursor: { nextBatch: [], id: Long.ZERO, ns: 'a.b' }, ok: 1.0 })), {
      ok: true,
      documents: 0,
      cursorId: 0n,
    });
  });

  it('reads n and nModified (plus upserts) as affected', () => {
    assert.deepEqual(summarizeReply(reply({ n: 3, ok: 1 })), { ok: true, affected: 3 });
    assert.deepEqual(summarizeReply(reply({ n: 2, nModified: 1, upserted: [{ index: 1, _id: 5 }], ok: 1 })), { ok: true, affected: 2 });
    assert.deepEqual(summarizeReply(reply({ lastErrorObject: { n: 1, updatedExisting: true }, value: { a: 1 }, ok: 1 })), {
      ok: true,
      affected: 1,
    });
  });

  it('reports a command error with code, name and message', () => {
    const s = summarizeReply(reply({ ok: 0, errmsg: 'no such command: frob', code: 59, codeName: 'CommandNotFound' }));
    assert.deepEqual(s, { ok: false, errorCode: 59, errorName: 'CommandNotFound', errorMessage: 'no such command: frob' });
  });

  it('turns the first write error of an ok reply into an error outcome', () => {
    const s = summarizeReply(
      reply({
        n: 1,
        writeErrors: [
          { index: 1, code: 11000, errmsg: 'E11000 duplicate key error' },
          { index: 2, code: 2, errmsg: 'second' },
        ],
        ok: 1,
      }),
    );
    assert.deepEqual(s, { ok: false, affected: 1, errorCode: 11000, errorMessage: 'E11000 duplicate key error' });
    const wce = summarizeReply(
      reply({ n: 1, writeConcernError: { code: 64, codeName: 'WriteConcernFailed', errmsg: 'waiting for replication timed out' }, ok: 1 }),
    );
    assert.deepEqual(wce, {
      ok: false,
      affected: 1,
      errorCode: 64,
      errorName: 'WriteConcernFailed',
      errorMessage: 'waiting for replication timed out',
    });
  });

  it('reads OP_REPLY: query failure with $err, command replies, and document counts', () => {
    const failure = encodeOpReply({
      requestId: 2,
      responseTo: 1,
      responseFlags: OP_REPLY_FLAGS.queryFailure,
      documents: [{ $err: 'bad query', code: 2 }],
    });
    assert.deepEqual(summarizeReply(failure), { ok: false, errorCode: 2, errorMessage: 'bad query' });
    assert.deepEqual(summarizeReply(encodeOpReply({ requestId: 2, responseTo: 1, documents: [{ ismaster: true, ok: 1 }] })), { ok: true });
    assert.deepEqual(summarizeReply(encodeOpReply({ requestId: 2, responseTo: 1, cursorId: 9n, documents: [{ a: 1 }, { a: 2 }] })), {
      ok: true,
      documents: 2,
      cursorId: 9n,
    });
  });

  it('reads a zlib-compressed reply', () => {
    assert.deepEqual(summarizeReply(encodeOpCompressed(reply({ n: 4, ok: 1 }))), { ok: true, affected: 4 });
  });

  it('throws WireProtocolError on a reply it cannot walk', () => {
    const raw = reply({ cursor: { firstBatch: [{ a: 1 }], id: Long.ZERO }, ok: 1 });
    const broken = Buffer.from(raw);
    broken.writeInt32LE(1000, 21 + 4 + 7); // length of the cursor sub-document
    assert.throws(() => summarizeReply(broken), WireProtocolError);
    assert.throws(() => summarizeReply(raw.subarray(0, 20)), WireProtocolError);
  });

  it('walks a large reply without decoding it', () => {
    const doc = { k: 'v'.repeat(1000) };
    const raw = reply({ cursor: { firstBatch: Array.from({ length: 20_000 }, () => doc), id: Long.ZERO, ns: 'a.b' }, ok: 1 });
    assert.ok(raw.length > 20_000_000);
    assert.equal(summarizeReply(raw).documents, 20_000);
  });
});
