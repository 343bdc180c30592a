import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OP_CODES, OP_MSG_FLAGS } from '../wire/constants';
import { commandOf, parseMessage } from '../wire/message';
import { encodeOpMsg } from '../wire/op-msg';
import { encodeOpQuery } from '../wire/op-query';
import { locateBadFrame } from './bad-frame';
import { describeClientMetadata, presentationFor, rewriteClientHello, rewriteHelloRequest, rewriteServerHello } from './handshake';

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
    assert.equal(rewriteServerHello(error, 'mongos'), error);
  });

  it("the client's hello keeps its metadata and loses auth, compression and streaming fields", () => {
    const client = { application: { name: 'app' }, driver: { name: 'nodejs', version: '6.0' } };
    const out = rewriteClientHello(
      {
        hello: 1,
        client,
        helloOk: true,
        speculativeAuthenticate: {},
        saslSupportedMechs: 'admin.u',
        compression: ['zstd'],
        topologyVersion: {},
        maxAwaitTimeMS: 10000,
        $db: 'admin',
      },
      false,
    );
    assert.deepEqual(out, { hello: 1, client, helloOk: true, $db: 'admin' });
    assert.equal(rewriteClientHello({ hello: 1 }, true).loadBalanced, true);
  });

  it('describes client metadata for the opened event', () => {
    assert.equal(
      describeClientMetadata({
        client: { driver: { name: 'nodejs|mongosh', version: '7.9.0|2.12.0' }, application: { name: 'mongosh 2.12.0' } },
      }),
      'driver nodejs|mongosh 7.9.0|2.12.0, app mongosh 2.12.0',
    );
    assert.equal(describeClientMetadata({ hello: 1 }), undefined);
  });
});

describe('rewriteHelloRequest', () => {
  const parse = (raw: Buffer) => parseMessage(raw, { maxMessageSize: 1 << 20, requireDb: true });

  it('OP_MSG: same request id, exhaustAllowed cleared, streaming fields removed', () => {
    const raw = encodeOpMsg({
      requestId: 31,
      flags: OP_MSG_FLAGS.exhaustAllowed,
      body: { hello: 1, topologyVersion: { counter: 1 }, maxAwaitTimeMS: 10000, $db: 'admin' },
    });
    const parsed = parse(raw);
    const out = parse(rewriteHelloRequest(parsed, commandOf(parsed)!, false));
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
      query: { $query: { isMaster: 1, saslSupportedMechs: 'admin.u' }, $readPreference: { mode: 'secondaryPreferred' } },
    });
    const parsed = parse(raw);
    const out = parse(rewriteHelloRequest(parsed, commandOf(parsed)!, true));
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
