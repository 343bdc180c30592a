import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Document } from 'bson';
import { buildDocument, encodeElement } from '../wire/bson-build';
import { readCommand } from '../wire/command-identity';
import { OP_CODES, OP_MSG_FLAGS } from '../wire/constants';
import { parseMessage } from '../wire/message';
import { encodeOpMsg } from '../wire/op-msg';
import { encodeOpQuery } from '../wire/op-query';
import { encodeOpReply } from '../wire/op-reply';
import { locateBadFrame } from './bad-frame';
import { describeClientMetadata, type Presentation, presentationFor, rewriteHelloReply, rewriteHelloRequest } from './handshake';

const parse = (raw: Buffer) => parseMessage(raw, { maxMessageSize: 1 << 20 });

/** The body the client gets for a server hello reply `body` sent as OP_MSG. */
function rewriteServerHello(body: Document, presentation: Presentation): Document {
  const out = parse(rewriteHelloReply(encodeOpMsg({ requestId: 7, responseTo: 3, body }), presentation).message);
  assert.equal(out.kind, 'msg');
  return out.kind === 'msg' ? out.msg.body : {};
}

/** The body the server gets for a client hello `body` sent as OP_MSG. */
function rewriteClientHello(body: Document, loadBalanced: boolean): Document {
  const raw = encodeOpMsg({ requestId: 5, body });
  const out = parse(rewriteHelloRequest(raw, readCommand(raw), loadBalanced));
  return out.kind === 'msg' ? out.msg.body : {};
}

// A replica-set primary's hello as MongoDB sends it.
const PRIMARY_HELLO = {
  topologyVersion: { processId: 'p', counter: 6 },
  hosts: ['db-0.internal:27017', 'db-1.internal:27017'],
  passives: ['db-2.internal:27017'],
  arbiters: ['arb.internal:27017'],
  setName: 'rs0',
  setVersion: 3,
  isWritablePrimary: true,
  secondary: false,
  primary: 'db-0.internal:27017',
  me: 'db-0.internal:27017',
  electionId: 'e',
  tags: { dc: 'east' },
  lastWrite: { opTime: 1 },
  maxBsonObjectSize: 16777216,
  maxMessageSizeBytes: 48000000,
  logicalSessionTimeoutMinutes: 30,
  saslSupportedMechs: ['SCRAM-SHA-256'],
  speculativeAuthenticate: { conversationId: 1 },
  compression: ['zlib'],
  maxWireVersion: 21,
  ok: 1,
};

describe('handshake rewriting', () => {
  it('a replica-set member is presented as a mongos with no internal names', () => {
    const out = rewriteServerHello(PRIMARY_HELLO, presentationFor('primary', false));
    assert.equal(out.msg, 'isdbgrid');
    for (const field of [
      'hosts',
      'passives',
      'arbiters',
      'me',
      'primary',
      'setName',
      'setVersion',
      'electionId',
      'tags',
      'topologyVersion',
    ]) {
      assert.equal(out[field], undefined, field);
    }
    for (const field of ['saslSupportedMechs', 'speculativeAuthenticate', 'compression', 'secondary', 'lastWrite'])
      assert.equal(out[field], undefined, field);
    assert.equal(out.logicalSessionTimeoutMinutes, 30);
    assert.equal(out.maxMessageSizeBytes, 48000000);
    assert.ok(!JSON.stringify(out).includes('internal'));
  });

  it('a standalone stays a standalone (it would refuse transaction numbers sent to a mongos)', () => {
    const out = rewriteServerHello(
      { isWritablePrimary: true, maxWireVersion: 21, compression: ['zlib'], ok: 1 },
      presentationFor('standalone', false),
    );
    assert.equal(out.msg, undefined);
    assert.equal(out.compression, undefined);
    assert.equal(presentationFor('standalone', true), 'mongos', 'behind a load balancer it is a mongos');
  });

  it('an error reply passes unchanged', () => {
    const error = { ok: 0, errmsg: 'x', code: 1 };
    assert.deepEqual(rewriteServerHello(error, 'mongos'), error);
  });

  it('rebuilds the reply from its bytes: field order kept, integer-like and duplicate keys included', () => {
    const body = buildDocument([
      encodeElement('isWritablePrimary', true),
      encodeElement('0', 'kept'),
      encodeElement('hosts', ['db-0.internal:27017']),
      encodeElement('me', 'db-0.internal:27017'),
      encodeElement('me', 'db-0.internal:27017'),
      encodeElement('ok', 1),
    ]);
    const raw = encodeOpMsg({ requestId: 9, responseTo: 4, body: {} });
    const message = Buffer.concat([raw.subarray(0, 21), body]);
    message.writeInt32LE(message.length, 0);
    const out = rewriteHelloReply(message, 'mongos').message;
    assert.equal(out.readInt32LE(8), 4, 'responseTo kept');
    assert.ok(!out.includes('internal'), 'every copy of a removed field is gone');
    assert.deepEqual(Object.keys(parse(out).kind === 'msg' ? (parse(out) as { msg: { body: Document } }).msg.body : {}), [
      '0',
      'isWritablePrimary',
      'ok',
      'msg',
    ]);
    const order = out.indexOf('isWritablePrimary');
    assert.ok(order > 0 && order < out.indexOf('kept'), 'byte order kept: isWritablePrimary before "0"');
  });

  it('OP_REPLY: the first document is rewritten, maxMessageSizeBytes reported', () => {
    const raw = encodeOpReply({
      requestId: 2,
      responseTo: 1,
      documents: [{ ismaster: true, me: 'h:1', maxMessageSizeBytes: 1000, ok: 1 }],
    });
    const out = rewriteHelloReply(raw, 'standalone');
    assert.equal(out.maxMessageSizeBytes, 1000);
    const parsed = parse(out.message);
    assert.equal(parsed.kind, 'reply');
    if (parsed.kind === 'reply') assert.deepEqual(parsed.reply.documents[0], { ismaster: true, maxMessageSizeBytes: 1000, ok: 1 });
  });

  it("the client's hello keeps its metadata and loses auth, compression and streaming fields", () => {
    const client = { application: { name: 'app' }, driver: { name: 'nodejs', version: '6.0' } };
    const out = rewriteClientHello(
      {
        hello: 1,
        client,
        helloOk: true,
        compression: ['zstd'],
        topologyVersion: {},
        maxAwaitTimeMS: 10000,
        $db: 'admin',
      },
      false,
    );
    assert.deepEqual(out, { hello: 1, client, helloOk: true, $db: 'admin' });
    assert.equal(rewriteClientHello({ hello: 1, $db: 'admin' }, true).loadBalanced, true);
  });

  it('describes client metadata for the opened event', () => {
    const hello = (body: Document) => {
      const raw = encodeOpMsg({ requestId: 1, body: { ...body, $db: 'admin' } });
      return describeClientMetadata(raw, readCommand(raw));
    };
    assert.equal(
      hello({ hello: 1, client: { driver: { name: 'nodejs|mongosh', version: '7.9.0|2.12.0' }, application: { name: 'mongosh 2.12.0' } } }),
      'driver nodejs|mongosh 7.9.0|2.12.0, app mongosh 2.12.0',
    );
    assert.equal(hello({ hello: 1 }), undefined);
  });
});

describe('rewriteHelloRequest', () => {
  it('OP_MSG: same request id, exhaustAllowed cleared, streaming fields removed', () => {
    const raw = encodeOpMsg({
      requestId: 31,
      flags: OP_MSG_FLAGS.exhaustAllowed,
      body: { hello: 1, topologyVersion: { counter: 1 }, maxAwaitTimeMS: 10000, $db: 'admin' },
    });
    const out = parse(rewriteHelloRequest(raw, readCommand(raw), false));
    assert.equal(out.kind, 'msg');
    if (out.kind !== 'msg') return;
    assert.equal(out.msg.header.requestId, 31);
    assert.equal(out.msg.flags & OP_MSG_FLAGS.exhaustAllowed, 0);
    assert.deepEqual(out.msg.body, { hello: 1, $db: 'admin' });
  });

  it('OP_QUERY wrapped in $query: the rewritten command goes back inside the wrapper', () => {
    const raw = encodeOpQuery({
      requestId: 32,
      fullCollectionName: 'admin.$cmd',
      numberToReturn: -1,
      query: { $query: { isMaster: 1, compression: ['zlib'] }, $readPreference: { mode: 'secondaryPreferred' } },
    });
    const out = parse(rewriteHelloRequest(raw, readCommand(raw), true));
    assert.equal(out.kind, 'query');
    if (out.kind !== 'query') return;
    assert.equal(out.query.header.requestId, 32);
    assert.equal(out.query.numberToReturn, -1);
    assert.deepEqual(out.query.query, { $query: { isMaster: 1, loadBalanced: true }, $readPreference: { mode: 'secondaryPreferred' } });
  });
});

describe('locateBadFrame', () => {
  it('finds the header of the message whose length is bad, after good ones', () => {
    const good = Buffer.alloc(20);
    good.writeInt32LE(20, 0);
    const bad = Buffer.alloc(16);
    bad.writeInt32LE(999_999_999, 0);
    bad.writeInt32LE(42, 4);
    bad.writeInt32LE(OP_CODES.query, 12);
    assert.deepEqual(locateBadFrame(Buffer.concat([good, bad]), 48_000_000), { requestId: 42, opCode: OP_CODES.query });
    assert.equal(locateBadFrame(bad.subarray(0, 8), 48_000_000), undefined, 'no reply without a whole header');
  });
});
