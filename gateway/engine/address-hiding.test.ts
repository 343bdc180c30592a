import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Document, EJSON, Long } from 'bson';
import { readCommand } from '../wire/command-identity';
import { parseMessage } from '../wire/message';
import { encodeOpMsg } from '../wire/op-msg';
import { encodeOpReply } from '../wire/op-reply';
import { AddressHider, isDiagnosticCommand, replyNeedsHiding } from './address-hiding';

const INTERNAL = ['db-0.internal', 'db-1.internal', 'db-2.internal', '10.0.4.17', '27017', '27018', 'fd00::17', 'rs0/'];
// What the gateway knows before any reply: the connection string's host and the set name from its probe hello.
const hider = () => new AddressHider('orders', ['db-0.internal:27017', 'rs0']);

function hidden(body: Document, h = hider()): Document {
  const out = parseMessage(h.reply(encodeOpMsg({ requestId: 2, responseTo: 1, body })), { maxMessageSize: 1 << 20 });
  assert.equal(out.kind, 'msg');
  return out.kind === 'msg' ? out.msg.body : {};
}

function assertClean(body: Document): void {
  const text = EJSON.stringify(body);
  for (const name of INTERNAL) assert.ok(!text.includes(name), `still names ${name}: ${text}`);
}

// Replies a real replica set and sharded cluster send, which FerretDB does not (crafted from MongoDB's docs).
const REPLIES: Record<string, Document> = {
  replSetGetStatus: {
    set: 'rs0',
    members: [
      { _id: 0, name: 'db-0.internal:27017', stateStr: 'PRIMARY', syncSourceHost: '', syncSourceId: -1, self: true },
      { _id: 1, name: 'db-1.internal:27017', stateStr: 'SECONDARY', syncSourceHost: 'db-0.internal:27017', syncSourceId: 0 },
      { _id: 2, name: '10.0.4.17:27018', stateStr: 'ARBITER', lastHeartbeatMessage: 'connection to [fd00::17]:27017 failed' },
    ],
    ok: 1,
  },
  replSetGetConfig: {
    config: {
      _id: 'rs0',
      members: [
        { _id: 0, host: 'db-0.internal:27017' },
        { _id: 1, host: 'db-2.internal:27017' },
      ],
    },
    ok: 1,
  },
  serverStatus: {
    host: 'db-0.internal',
    repl: {
      hosts: ['db-0.internal:27017', 'db-1.internal:27017'],
      me: 'db-0.internal:27017',
      primary: 'db-0.internal:27017',
      setName: 'rs0',
    },
    ok: 1,
  },
  connPoolStats: {
    hosts: { 'db-1.internal:27017': { inUse: 0, available: 1 } },
    replicaSets: { rs0: { hosts: [{ addr: 'db-1.internal:27017', ok: true }] } },
    ok: 1,
  },
  getCmdLineOpts: {
    argv: ['mongod', '--port', '27017', '--bind_ip', 'db-0.internal,10.0.4.17'],
    parsed: { net: { port: 27017, bindIp: '10.0.4.17' } },
    ok: 1,
  },
  dbStats: { raw: { 'rs0/db-0.internal:27017,db-1.internal:27017': { collections: 3 } }, ok: 1 },
  currentOp: { inprog: [{ client: '10.0.4.17:53211', desc: 'conn12', host: 'db-0.internal:27017' }], ok: 1 },
};

describe('AddressHider', () => {
  for (const [command, body] of Object.entries(REPLIES)) {
    it(`hides every internal address in ${command}`, () => {
      const out = hidden(body);
      assertClean(out);
      assert.ok(EJSON.stringify(out).includes('portcullis:orders'), 'the placeholder names the resource');
    });
  }

  it('keeps everything else, in order, and zeroes ports', () => {
    const out = hidden({ host: 'db-0.internal:27017', version: '8.0.4', uptime: Long.fromNumber(5), port: 27017, ok: 1 });
    assert.deepEqual(Object.keys(out), ['host', 'version', 'uptime', 'port', 'ok']);
    assert.equal(out.host, 'portcullis:orders');
    assert.equal(out.version, '8.0.4');
    assert.equal(out.port, 0);
  });

  it('hides names in error text, and leaves other text alone', () => {
    const h = hider();
    assert.equal(
      h.text('could not reach db-0.internal:27017 (connect ECONNREFUSED 10.0.4.17:27017)'),
      'could not reach portcullis:orders (connect ECONNREFUSED portcullis:orders)',
    );
    assert.equal(h.text('version 8.0.4 of db.collection is fine'), 'version 8.0.4 of db.collection is fine');
    assert.equal(h.text('[fd00::17]:27017 and ::1'), 'portcullis:orders and portcullis:orders');
  });

  it('rewrites OP_REPLY documents too', () => {
    const raw = encodeOpReply({ requestId: 2, responseTo: 1, documents: [{ $err: 'not master: db-0.internal:27017', ok: 0 }] });
    const out = parseMessage(new AddressHider('orders').reply(raw), { maxMessageSize: 1 << 20 });
    assert.equal(out.kind === 'reply' && out.reply.documents[0].$err, 'not master: portcullis:orders');
  });
});

describe('which replies are rewritten', () => {
  const identity = (body: Document) => {
    const raw = encodeOpMsg({ requestId: 1, body: { ...body, $db: 'admin' } });
    return isDiagnosticCommand(raw, readCommand(raw));
  };

  it('diagnostic commands, explain, and pipelines with diagnostic stages', () => {
    assert.equal(identity({ serverStatus: 1 }), true);
    assert.equal(identity({ getLog: 'global' }), true);
    assert.equal(identity({ find: 'c', explain: true }), true);
    assert.equal(identity({ aggregate: 'c', pipeline: [{ $currentOp: {} }], cursor: {} }), true);
    assert.equal(identity({ find: 'c', filter: {} }), false);
    assert.equal(identity({ aggregate: 'c', pipeline: [{ $match: {} }], cursor: {} }), false);
  });

  it('every error and write-concern error, not ordinary results', () => {
    const reply = (body: Document) => replyNeedsHiding(encodeOpMsg({ requestId: 2, responseTo: 1, body }));
    assert.equal(reply({ ok: 0, errmsg: 'x' }), true);
    assert.equal(reply({ n: 1, writeConcernError: { errmsg: 'waiting for db-1.internal:27017' }, ok: 1 }), true);
    assert.equal(
      reply({ cursor: { firstBatch: [{ ip: '10.0.0.1' }], id: Long.ZERO, ns: 'a.b' }, ok: 1 }),
      false,
      'user data is not touched',
    );
    assert.equal(reply({ ok: 1.0 }), false);
  });
});
