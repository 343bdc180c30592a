import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Binary, Long, ObjectId, UUID } from 'bson';
import { parseMessage } from '../wire/message';
import { encodeOpMsg } from '../wire/op-msg';
import { encodeOpQuery } from '../wire/op-query';
import { describeCommand } from './command-input';
import { isHandshakeCommand } from './handshake';
import { DEFAULT_RECORDING_OPTIONS } from './options';

const opts = { maxMessageSize: 48_000_000 };
const msg = (body: object, sequences?: { identifier: string; documents: object[] }[]) =>
  parseMessage(encodeOpMsg({ requestId: 1, body, sequences }), opts);
const noise = {
  lsid: { id: new UUID() },
  $clusterTime: { clusterTime: Long.fromNumber(1), signature: { hash: new Binary(Buffer.alloc(20)), keyId: Long.fromNumber(0) } },
  $readPreference: { mode: 'primaryPreferred' },
  txnNumber: Long.fromNumber(3),
  signature: 'x',
};

describe('describeCommand', () => {
  it('records find as compact relaxed Extended JSON without noise fields, and names the collection', () => {
    const id = new ObjectId('65a1b2c3d4e5f60718293a4b');
    const d = describeCommand(
      msg({ find: 'orders', filter: { _id: id, total: { $gt: 10 } }, limit: 5, ...noise, $db: 'shop' }),
      DEFAULT_RECORDING_OPTIONS,
    );
    assert.deepEqual(d, {
      database: 'shop',
      command: 'find',
      collection: 'orders',
      input: '{"find":"orders","filter":{"_id":{"$oid":"65a1b2c3d4e5f60718293a4b"},"total":{"$gt":10}},"limit":5}',
      truncated: false,
    });
  });

  it('counts document sequences instead of copying them', () => {
    const d = describeCommand(
      msg({ insert: 'items', ordered: true, $db: 'app' }, [{ identifier: 'documents', documents: [{ a: 1 }, { a: 2 }, { a: 3 }] }]),
      DEFAULT_RECORDING_OPTIONS,
    );
    assert.equal(d?.input, '{"insert":"items","ordered":true,"documents":"<3 documents>"}');
    assert.equal(d?.collection, 'items');
  });

  it('masks strings that match a pattern anywhere in the command, and password fields always', () => {
    const options = { ...DEFAULT_RECORDING_OPTIONS, maskPatterns: [/\b\d{4}-\d{4}-\d{4}-\d{4}\b/g, /^secret-/] };
    const body = {
      update: 'cards',
      updates: [{ q: { number: '4111-1111-1111-1111' }, u: { $set: { note: 'ok', tags: ['secret-a', 'plain'] } } }],
      $db: 'pay',
    };
    const d = describeCommand(msg(body), options);
    assert.equal(d?.input, '{"update":"cards","updates":[{"q":{"number":"***"},"u":{"$set":{"note":"ok","tags":["***","plain"]}}}]}');
    // A /g pattern is stateful with test(); matching must not depend on the previous call.
    assert.equal(describeCommand(msg(body), options)?.input, d?.input);
    const user = describeCommand(
      msg({ createUser: 'bob', pwd: 'hunter2-very-secret', roles: [], $db: 'admin' }),
      DEFAULT_RECORDING_OPTIONS,
    );
    assert.doesNotMatch(user?.input ?? '', /hunter2/);
    assert.equal(user?.collection, undefined, 'createUser names a user, not a collection');
  });

  it('summarizes binary data by size but keeps UUIDs', () => {
    const uuid = new UUID('0e3a7c4e-8f1d-4b2a-9c3d-5e6f7a8b9c0d');
    const d = describeCommand(
      msg({ insert: 'files', bulk: new Binary(Buffer.alloc(1000)), ref: uuid, $db: 'app' }),
      DEFAULT_RECORDING_OPTIONS,
    );
    assert.equal(
      d?.input,
      `{"insert":"files","bulk":"<binary 1000 bytes>","ref":{"$binary":{"base64":"${Buffer.from(uuid.buffer).toString('base64')}","subType":"04"}}}`,
    );
  });

  it('caps the input at maxEventBytes with a marker saying how much was cut', () => {
    const d = describeCommand(msg({ find: 'c', filter: { text: 'é'.repeat(5000) }, $db: 'app' }), { maskPatterns: [], maxEventBytes: 300 });
    assert.ok(d);
    assert.equal(d.truncated, true);
    assert.ok(Buffer.byteLength(d.input) <= 300, `${Buffer.byteLength(d.input)} bytes`);
    const marker = /…\[truncated (\d+) bytes\]$/.exec(d.input);
    assert.ok(marker, d.input);
    const full = `{"find":"c","filter":{"text":"${'é'.repeat(5000)}"}}`;
    assert.equal(Buffer.byteLength(d.input.slice(0, marker.index)) + Number(marker[1]), Buffer.byteLength(full));
    assert.ok(full.startsWith(d.input.slice(0, marker.index)));
  });

  it('stays bounded on a huge command by eliding once a budget is spent', () => {
    const many = Array.from({ length: 200_000 }, (_, i) => ({ _id: i, name: `n${i}` }));
    const d = describeCommand(msg({ insert: 'big', documents: many, $db: 'app' }), DEFAULT_RECORDING_OPTIONS);
    assert.ok(d?.truncated);
    assert.ok(Buffer.byteLength(d?.input ?? '') <= 8192);
  });

  it('takes getMore collection from its field, OP_QUERY commands from <db>.$cmd, and ignores non-commands', () => {
    assert.equal(
      describeCommand(msg({ getMore: Long.fromNumber(77), collection: 'orders', $db: 'shop' }), DEFAULT_RECORDING_OPTIONS)?.collection,
      'orders',
    );
    const q = parseMessage(encodeOpQuery({ requestId: 1, fullCollectionName: 'admin.$cmd', query: { buildInfo: 1 } }), opts);
    assert.deepEqual(describeCommand(q, DEFAULT_RECORDING_OPTIONS), {
      database: 'admin',
      command: 'buildInfo',
      input: '{"buildInfo":1}',
      truncated: false,
    });
    assert.equal(
      describeCommand(parseMessage(encodeOpQuery({ requestId: 1, fullCollectionName: 'a.b', query: {} }), opts), DEFAULT_RECORDING_OPTIONS),
      null,
    );
  });

  it('records a __proto__ field as a field', () => {
    const raw = Buffer.from('{"find":"c","filter":{"__proto__":{"polluted":1}},"$db":"a"}');
    const body = JSON.parse(raw.toString());
    const d = describeCommand(msg(body), DEFAULT_RECORDING_OPTIONS);
    assert.equal(d?.input, '{"find":"c","filter":{"__proto__":{"polluted":1}}}');
    assert.equal(({} as { polluted?: number }).polluted, undefined);
  });

  it('limits nesting depth', () => {
    let deep: object = { x: 1 };
    for (let i = 0; i < 90; i++) deep = { d: deep };
    const d = describeCommand(msg({ find: 'c', filter: deep, $db: 'a' }), DEFAULT_RECORDING_OPTIONS);
    assert.match(d?.input ?? '', /<nested too deep>/);
    assert.equal(d?.truncated, true);
  });
});

describe('isHandshakeCommand', () => {
  it('counts hello, isMaster and ping as handshake; user commands are not', () => {
    for (const name of ['hello', 'isMaster', 'ismaster', 'ping']) assert.equal(isHandshakeCommand(name), true, name);
    for (const name of ['find', 'buildInfo', 'saslStart', 'insert']) assert.equal(isHandshakeCommand(name), false, name);
  });
});
