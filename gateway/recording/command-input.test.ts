import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Binary, type Document, Long, ObjectId, UUID } from 'bson';
import { BSON_TYPES } from '../wire/bson-walk';
import { CommandRefused, readCommand } from '../wire/command-identity';
import { encodeOpQuery } from '../wire/op-query';
import { type CommandDescription, describeCommand } from './command-input';
import { isHandshakeCommand } from './handshake';
import { DEFAULT_RECORDING_OPTIONS, type RecordingOptions } from './options';
import { buildDocument, commandBytes, encodeElement, identify, opMsg, rawElement, rawString, type TestSequence } from './test-messages';

/** A request as the engine hands it to the recorder: its raw bytes and the identity readCommand read from them. */
function msg(body: Document | Buffer, sequences?: TestSequence[]) {
  const raw = opMsg(body, { sequences });
  return { raw, identity: identify(raw) };
}

function describeRequest(request: ReturnType<typeof msg>, options: RecordingOptions = DEFAULT_RECORDING_OPTIONS): CommandDescription {
  return describeCommand(request.raw, request.identity, options);
}

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
    const d = describeRequest(msg({ find: 'orders', filter: { _id: id, total: { $gt: 10 } }, limit: 5, ...noise, $db: 'shop' }));
    assert.deepEqual(d, {
      database: 'shop',
      command: 'find',
      collection: 'orders',
      input: '{"find":"orders","filter":{"_id":{"$oid":"65a1b2c3d4e5f60718293a4b"},"total":{"$gt":10}},"limit":5}',
      truncated: false,
    });
  });

  it('counts document sequences instead of copying them', () => {
    const d = describeRequest(
      msg({ insert: 'items', ordered: true, $db: 'app' }, [{ identifier: 'documents', documents: [{ a: 1 }, { a: 2 }, { a: 3 }] }]),
    );
    assert.equal(d.input, '{"insert":"items","ordered":true,"documents":"<3 documents>"}');
    assert.equal(d.collection, 'items');
    const one = describeRequest(msg({ delete: 'items', $db: 'app' }, [{ identifier: 'deletes', documents: [{ q: {}, limit: 1 }] }]));
    assert.equal(one.input, '{"delete":"items","deletes":"<1 document>"}');
  });

  it('masks strings that match a pattern anywhere in the command, and password fields always', () => {
    const options = { ...DEFAULT_RECORDING_OPTIONS, maskPatterns: [/\b\d{4}-\d{4}-\d{4}-\d{4}\b/g, /^secret-/] };
    const body = {
      update: 'cards',
      updates: [{ q: { number: '4111-1111-1111-1111' }, u: { $set: { note: 'ok', tags: ['secret-a', 'plain'] } } }],
      $db: 'pay',
    };
    const d = describeRequest(msg(body), options);
    assert.equal(d.input, '{"update":"cards","updates":[{"q":{"number":"***"},"u":{"$set":{"note":"ok","tags":["***","plain"]}}}]}');
    // A /g pattern is stateful with test(); matching must not depend on the previous call.
    assert.equal(describeRequest(msg(body), options).input, d.input);
    const user = describeRequest(msg({ createUser: 'bob', pwd: 'hunter2-very-secret', roles: [], $db: 'admin' }));
    assert.doesNotMatch(user.input, /hunter2/);
    assert.equal(user.collection, undefined, 'createUser names a user, not a collection');
  });

  it('summarizes binary data by size but keeps UUIDs', () => {
    const uuid = new UUID('0e3a7c4e-8f1d-4b2a-9c3d-5e6f7a8b9c0d');
    const d = describeRequest(
      msg({
        insert: 'files',
        bulk: new Binary(Buffer.alloc(1000)),
        old: new Binary(Buffer.alloc(7), 2),
        notUuid: new Binary(Buffer.alloc(15), 4),
        ref: uuid,
        $db: 'app',
      }),
    );
    assert.equal(
      d.input,
      `{"insert":"files","bulk":"<binary 1000 bytes>","old":"<binary 7 bytes>","notUuid":"<binary 15 bytes>","ref":{"$binary":{"base64":"${Buffer.from(uuid.buffer).toString('base64')}","subType":"04"}}}`,
    );
  });

  it('caps the input at maxEventBytes with a marker saying how much was cut', () => {
    // 1,000 characters fit the rendering budget (4 × maxEventBytes): only the cap cuts, and it counts exactly.
    const d = describeRequest(msg({ find: 'c', filter: { text: 'é'.repeat(1000) }, $db: 'app' }), { maskPatterns: [], maxEventBytes: 300 });
    assert.equal(d.truncated, true);
    assert.ok(Buffer.byteLength(d.input) <= 300, `${Buffer.byteLength(d.input)} bytes`);
    const marker = /…\[truncated (\d+) bytes\]$/.exec(d.input);
    assert.ok(marker, d.input);
    const full = `{"find":"c","filter":{"text":"${'é'.repeat(1000)}"}}`;
    assert.equal(Buffer.byteLength(d.input.slice(0, marker.index)) + Number(marker[1]), Buffer.byteLength(full));
    assert.ok(full.startsWith(d.input.slice(0, marker.index)));
  });

  it('stays bounded on a huge command by eliding once a budget is spent', () => {
    const many = Array.from({ length: 200_000 }, (_, i) => ({ _id: i, name: `n${i}` }));
    const d = describeRequest(msg({ insert: 'big', documents: many, $db: 'app' }));
    assert.ok(d.truncated);
    assert.ok(Buffer.byteLength(d.input) <= 8192);
  });

  it('cuts a huge string to the budget instead of copying it', () => {
    const options = { maskPatterns: [], maxEventBytes: 1024 };
    const d = describeRequest(msg({ find: 'c', filter: { big: 'z'.repeat(5_000_000) }, $db: 'app' }), options);
    assert.equal(d.truncated, true);
    assert.ok(Buffer.byteLength(d.input) <= 1024);
    assert.match(d.input, /^\{"find":"c","filter":\{"big":"z+/);
  });

  it('takes getMore collection from its field, and OP_QUERY commands from <db>.$cmd', () => {
    assert.equal(describeRequest(msg({ getMore: Long.fromNumber(77), collection: 'orders', $db: 'shop' })).collection, 'orders');
    const raw = encodeOpQuery({ requestId: 1, fullCollectionName: 'admin.$cmd', query: { buildInfo: 1 } });
    assert.deepEqual(describeCommand(raw, readCommand(raw), DEFAULT_RECORDING_OPTIONS), {
      database: 'admin',
      command: 'buildInfo',
      input: '{"buildInfo":1}',
      truncated: false,
    });
    const wrapped = encodeOpQuery({
      requestId: 2,
      fullCollectionName: 'shop.$cmd',
      query: { $query: { count: 'orders', query: { a: 1 } }, $readPreference: { mode: 'secondary' } },
    });
    const d = describeCommand(wrapped, readCommand(wrapped), DEFAULT_RECORDING_OPTIONS);
    assert.equal(d.input, '{"count":"orders","query":{"a":1}}', 'the command inside $query, not its wrapper');
    assert.equal(d.collection, 'orders');
  });

  it('names no collection when the first value is not a non-empty string', () => {
    assert.equal(describeRequest(msg({ find: '', $db: 'a' })).collection, undefined);
    assert.equal(describeRequest(msg({ find: 5, $db: 'a' })).collection, undefined);
    assert.equal(describeRequest(msg({ getMore: Long.fromNumber(1), collection: 3, $db: 'a' })).collection, undefined);
  });

  it('cuts long names: database, command and collection are identifiers, not payload', () => {
    const long = 'c'.repeat(10_000);
    const d = describeRequest(msg({ find: long, $db: 'a' }));
    assert.equal(d.collection, 'c'.repeat(256));
    const name = describeRequest(msg({ [long]: 1, $db: 'a' }));
    assert.equal(name.command, 'c'.repeat(256));
  });

  it('records a __proto__ field as a field', () => {
    const body = JSON.parse('{"find":"c","filter":{"__proto__":{"polluted":1}},"$db":"a"}');
    const d = describeRequest(msg(body));
    assert.equal(d.input, '{"find":"c","filter":{"__proto__":{"polluted":1}}}');
    assert.equal(({} as { polluted?: number }).polluted, undefined);
  });

  it('limits nesting depth', () => {
    let deep: Document = { x: 1 };
    for (let i = 0; i < 90; i++) deep = { d: deep };
    const d = describeRequest(msg({ find: 'c', filter: deep, $db: 'a' }));
    assert.match(d.input, /<nested too deep>/);
    assert.equal(d.truncated, true);
    // 64 levels are shown: the filter (depth 1) and 63 documents inside it.
    assert.equal(d.input.split('{"d":').length - 1, 64);
  });

  it('logs a command the gateway refuses for its nesting, a million levels deep, without recursing', () => {
    const levels = 1_000_000;
    // filter: { d: { d: ... {} } }, byte by byte, front to back: for each level its size, type 0x03 and key "d";
    // then the innermost empty document; then the NUL that closes each level.
    const deep = Buffer.alloc(8 * levels + 5);
    let offset = 0;
    for (let i = 0; i < levels; i++) {
      deep.writeInt32LE(5 + 8 * (levels - i), offset);
      deep[offset + 4] = BSON_TYPES.document;
      deep[offset + 5] = 0x64; // "d"
      deep[offset + 6] = 0;
      offset += 7;
    }
    deep.writeInt32LE(5, offset);
    deep.fill(0, offset + 4);
    const raw = opMsg(
      commandBytes([encodeElement('find', 'c'), Buffer.concat([Buffer.from([BSON_TYPES.document]), Buffer.from('filter\0'), deep])]),
    );
    assert.throws(
      () => readCommand(raw),
      (error: unknown) => error instanceof CommandRefused && error.codeName === 'Overflow',
    );
    const d = describeCommand(raw, identify(raw), DEFAULT_RECORDING_OPTIONS);
    assert.equal(d.command, 'find');
    assert.match(d.input, /^\{"find":"c","filter":(\{"d":){64}"<nested too deep>"\}{64}\}$/);
    assert.equal(d.truncated, true);
  });

  it('shows integer-like keys where they were sent, and a duplicate key twice', () => {
    const d = describeRequest(
      msg(
        commandBytes([
          encodeElement('find', 'c'),
          encodeElement('2', 'b'),
          encodeElement('1', 'a'),
          encodeElement('limit', 1),
          encodeElement('limit', 2),
        ]),
      ),
    );
    assert.equal(d.command, 'find');
    assert.equal(d.input, '{"find":"c","2":"b","1":"a","limit":1,"limit":2}');
    const decoyFirst = describeRequest(
      msg(commandBytes([encodeElement('0', 1), encodeElement('saslStart', 1), encodeElement('mechanism', 'PLAIN')])),
    );
    assert.equal(decoyFirst.command, '0');
    assert.equal(decoyFirst.input, '{"0":1,"saslStart":1,"mechanism":"PLAIN"}');
    const nested = describeRequest(
      msg(
        commandBytes([
          encodeElement('find', 'c'),
          Buffer.concat([
            Buffer.from([BSON_TYPES.document]),
            Buffer.from('filter\0'),
            buildDocument([encodeElement('b', 1), encodeElement('10', 2), encodeElement('b', 3)]),
          ]),
        ]),
      ),
    );
    assert.equal(nested.input, '{"find":"c","filter":{"b":1,"10":2,"b":3}}');
  });

  it('never throws on invalid UTF-8: the bad bytes show as U+FFFD', () => {
    const d = describeRequest(
      msg(
        commandBytes([
          encodeElement('find', 'c'),
          rawElement(BSON_TYPES.string, 'note', rawString(Buffer.from([0x61, 0xff, 0xfe, 0x62]))),
          rawElement(BSON_TYPES.int32, 'k', Buffer.from([1, 0, 0, 0])),
        ]),
      ),
    );
    assert.equal(d.input, '{"find":"c","note":"a\ufffd\ufffdb","k":1}');
    const badKey = Buffer.concat([Buffer.from([BSON_TYPES.int32]), Buffer.from([0x6b, 0xc3, 0]), Buffer.from([2, 0, 0, 0])]);
    assert.equal(describeRequest(msg(commandBytes([encodeElement('find', 'c'), badKey]))).input, '{"find":"c","k\ufffd":2}');
  });

  it('records a refused command whose nested bytes are malformed with an explanation instead of values', () => {
    // Refused for its duplicate key before the gateway reads the nested document, which has an unknown type 0x20.
    const bad = Buffer.from([12, 0, 0, 0, 0x20, 0x61, 0, 1, 2, 3, 4, 0]);
    const raw = opMsg(
      commandBytes([encodeElement('find', 'c'), encodeElement('find', 'c'), rawElement(BSON_TYPES.document, 'filter', bad)]),
    );
    const d = describeCommand(raw, identify(raw), DEFAULT_RECORDING_OPTIONS);
    assert.equal(d.command, 'find');
    assert.equal(d.collection, 'c');
    assert.match(d.input, /^\{"find":"<could not render the command: .*unknown element type 0x20.*>"\}$/);
  });
});

describe('isHandshakeCommand', () => {
  it('counts hello, isMaster and ping as handshake; user commands are not', () => {
    for (const name of ['hello', 'isMaster', 'ismaster', 'ping']) assert.equal(isHandshakeCommand(name), true, name);
    for (const name of ['find', 'buildInfo', 'saslStart', 'insert']) assert.equal(isHandshakeCommand(name), false, name);
  });
});
