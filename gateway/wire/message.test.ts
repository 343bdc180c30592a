import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OP_REPLY_FLAGS } from './constants';
import { errorReplyFor, okReplyFor } from './error-reply';
import { MONGO_ERROR_CODES, WireProtocolError } from './errors';
import { headerOf, parseMessage } from './message';
import { encodeOpMsg, parseOpMsg } from './op-msg';
import { encodeOpQuery } from './op-query';
import { encodeOpReply, parseOpReply } from './op-reply';
import { peekFlags, peekOpCode, peekRequestId, peekResponseTo } from './peek';

const opts = { maxMessageSize: 10_000 };

describe('parseMessage', () => {
  it('dispatches each opcode', () => {
    assert.equal(parseMessage(encodeOpMsg({ requestId: 1, body: { ping: 1, $db: 'a' } }), opts).kind, 'msg');
    assert.equal(parseMessage(encodeOpQuery({ requestId: 1, fullCollectionName: 'a.$cmd', query: { hello: 1 } }), opts).kind, 'query');
    assert.equal(parseMessage(encodeOpReply({ requestId: 1, responseTo: 1, documents: [{ ok: 1 }] }), opts).kind, 'reply');
    const legacy = Buffer.alloc(20);
    legacy.writeInt32LE(20, 0);
    legacy.writeInt32LE(2002, 12);
    const parsed = parseMessage(legacy, opts);
    assert.equal(parsed.kind, 'legacy');
    assert.equal(headerOf(parsed).opCode, 2002);
  });

  it('enforces the size cap and $db on requests when asked', () => {
    const raw = encodeOpMsg({ requestId: 1, body: { ping: 1, pad: 'x'.repeat(200) } });
    assert.throws(() => parseMessage(raw, { maxMessageSize: 100 }), /exceeds the maximum message size/);
    assert.throws(() => parseMessage(raw, { ...opts, requireDb: true }), /no \$db/);
  });
});

describe('error and ok replies in the request format', () => {
  const error = new WireProtocolError('authentication is handled by the gateway', 'Unauthorized');

  it('answers OP_MSG with an OP_MSG error body', () => {
    const reply = parseOpMsg(errorReplyFor({ opCode: 2013, requestId: 77 }, error, 5));
    assert.equal(reply.header.responseTo, 77);
    assert.equal(reply.header.requestId, 5);
    assert.deepEqual(reply.body, {
      ok: 0,
      errmsg: 'authentication is handled by the gateway',
      code: MONGO_ERROR_CODES.Unauthorized,
      codeName: 'Unauthorized',
    });
  });

  it('answers OP_QUERY with OP_REPLY carrying QueryFailure and $err', () => {
    const reply = parseOpReply(errorReplyFor({ opCode: 2004, requestId: 78 }, error, 6));
    assert.equal(reply.header.responseTo, 78);
    assert.equal(reply.responseFlags, OP_REPLY_FLAGS.queryFailure);
    assert.deepEqual(reply.documents, [{ $err: error.message, code: 13, ok: 0, errmsg: error.message, codeName: 'Unauthorized' }]);
  });

  it('makes ok replies in either format', () => {
    assert.deepEqual(parseOpMsg(okReplyFor({ opCode: 2013, requestId: 1 }, { ok: 1, n: 2 }, 2)).body, { ok: 1, n: 2 });
    const reply = parseOpReply(okReplyFor({ opCode: 2004, requestId: 1 }, { ismaster: true, ok: 1 }, 2));
    assert.equal(reply.responseFlags, 0);
    assert.deepEqual(reply.documents, [{ ismaster: true, ok: 1 }]);
  });
});

describe('peek helpers', () => {
  it('read header fields and flags without parsing', () => {
    const raw = encodeOpMsg({ requestId: 31, responseTo: 30, flags: 2, body: { ok: 1 } });
    assert.equal(peekOpCode(raw), 2013);
    assert.equal(peekRequestId(raw), 31);
    assert.equal(peekResponseTo(raw), 30);
    assert.equal(peekFlags(raw), 2);
    assert.throws(() => peekFlags(raw.subarray(0, 18)), WireProtocolError);
    assert.throws(() => peekOpCode(raw.subarray(0, 10)), WireProtocolError);
  });
});
