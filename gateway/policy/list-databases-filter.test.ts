import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Document, Double, deserialize, Int32, Long, Timestamp } from 'bson';
import { element } from '../test/raw-messages';
import { buildDocument } from '../wire/bson-build';
import { BSON_TYPES, walkDocument } from '../wire/bson-walk';
import { HEADER_SIZE, OP_MSG_FLAGS, OP_REPLY_FLAGS } from '../wire/constants';
import { encodeOpMsg, parseOpMsg } from '../wire/op-msg';
import { encodeOpReply, OP_REPLY_DOCUMENTS_OFFSET, parseOpReply } from '../wire/op-reply';
import { compileDatabasePatterns } from './database-patterns';
import { filterListDatabasesReply } from './list-databases-filter';

const allows = compileDatabasePatterns(['app', 'logs_*']);
const MIB = 1024 * 1024;

function entry(name: string, size: number): Document {
  return { name, sizeOnDisk: Long.fromNumber(size), empty: false };
}

const FULL: Document = {
  databases: [entry('admin', 40960), entry('app', 3 * MIB), entry('logs_1', 2 * MIB + 5), entry('other', 7 * MIB), entry('logs_2', 8192)],
  totalSize: Long.fromNumber(40960 + 3 * MIB + 2 * MIB + 5 + 7 * MIB + 8192),
  totalSizeMb: Long.fromNumber(12),
  ok: 1,
  $clusterTime: { clusterTime: new Timestamp({ t: 1, i: 1 }) },
  operationTime: new Timestamp({ t: 1, i: 1 }),
};

/** The body of a reply message, decoded for the assertions (int64 as numbers). */
function bodyOf(raw: Buffer): Document {
  const start = raw.readInt32LE(12) === 1 ? OP_REPLY_DOCUMENTS_OFFSET : HEADER_SIZE + 5;
  return deserialize(raw.subarray(start, start + raw.readInt32LE(start)));
}

const reply = (body: Document, flags = 0) => encodeOpMsg({ requestId: 77, responseTo: 5, flags, body });

/** The array's keys, read from the bytes. */
function arrayKeys(raw: Buffer, body: { start: number; end: number }): string[] {
  const keys: string[] = [];
  walkDocument(raw, body.start, body.end, 'reply', (field) => {
    if (raw.toString('utf8', field.keyStart, field.keyEnd) !== 'databases') return;
    walkDocument(raw, field.valueStart, field.valueEnd, 'databases', (item) => {
      keys.push(raw.toString('utf8', item.keyStart, item.keyEnd));
    });
  });
  return keys;
}

describe('filterListDatabasesReply (OP_MSG)', () => {
  it('keeps only the allowed databases, renumbered, with totals over them and every other field as it was', () => {
    const raw = reply(FULL);
    const out = filterListDatabasesReply(raw, allows);
    assert.equal(out.readInt32LE(0), out.length);
    assert.deepEqual([out.readInt32LE(4), out.readInt32LE(8)], [77, 5]);
    assert.doesNotThrow(() => parseOpMsg(out));
    const parsed = { body: bodyOf(out) };
    assert.deepEqual(
      parsed.body.databases.map((d: Document) => d.name),
      ['app', 'logs_1', 'logs_2'],
    );
    assert.deepEqual(parsed.body.databases[1], { name: 'logs_1', sizeOnDisk: 2 * MIB + 5, empty: false });
    const kept = 3 * MIB + 2 * MIB + 5 + 8192;
    assert.equal(parsed.body.totalSize, kept);
    assert.equal(parsed.body.totalSizeMb, 5);
    assert.deepEqual(Object.keys(parsed.body), ['databases', 'totalSize', 'totalSizeMb', 'ok', '$clusterTime', 'operationTime']);
    assert.deepEqual(parsed.body.$clusterTime, FULL.$clusterTime);
    assert.deepEqual(arrayKeys(out, { start: HEADER_SIZE + 5, end: out.length }), ['0', '1', '2']);
    // Types kept: the totals stay int64, as the server sent them.
    walkDocument(out, HEADER_SIZE + 5, out.length, 'reply', (field) => {
      const key = out.toString('utf8', field.keyStart, field.keyEnd);
      if (key === 'totalSize' || key === 'totalSizeMb') assert.equal(field.type, BSON_TYPES.int64, key);
    });
  });

  it('handles nameOnly replies', () => {
    const out = filterListDatabasesReply(reply({ databases: [{ name: 'other' }, { name: 'app' }, { name: 'admin' }], ok: 1 }), allows);
    assert.deepEqual(bodyOf(out), { databases: [{ name: 'app' }], ok: 1 });
  });

  it('can leave an empty list', () => {
    const out = filterListDatabasesReply(reply({ databases: [entry('other', 10)], totalSize: 10, totalSizeMb: 0, ok: 1.0 }), allows);
    assert.deepEqual(bodyOf(out), { databases: [], totalSize: 0, totalSizeMb: 0, ok: 1 });
  });

  it('keeps the totals in their own types (double, int32; an int32 that overflows becomes int64)', () => {
    const body = {
      databases: [
        { name: 'app', sizeOnDisk: new Double(3e9) },
        { name: 'other', sizeOnDisk: new Double(1) },
      ],
      totalSize: new Int32(5),
      totalSizeMb: new Double(1),
      ok: 1,
    };
    const out = filterListDatabasesReply(reply(body), allows);
    const types: Record<string, number> = {};
    walkDocument(out, HEADER_SIZE + 5, out.length, 'reply', (field) => {
      types[out.toString('utf8', field.keyStart, field.keyEnd)] = field.type;
    });
    assert.deepEqual([types.totalSize, types.totalSizeMb], [BSON_TYPES.int64, BSON_TYPES.double]);
    const parsed = bodyOf(out);
    assert.deepEqual([parsed.totalSize, parsed.totalSizeMb], [3e9, Math.floor(3e9 / MIB)]);
  });

  it('returns the same message when nothing is removed, for errors, and for other replies', () => {
    const allAllowed = reply({ databases: [entry('app', 1), entry('logs_9', 2)], totalSize: Long.fromNumber(3), ok: 1 });
    assert.equal(filterListDatabasesReply(allAllowed, allows), allAllowed);
    const error = reply({ ok: 0, errmsg: 'not authorized on admin to execute command', code: 13, codeName: 'Unauthorized' });
    assert.equal(filterListDatabasesReply(error, allows), error);
    const failedWithList = reply({ databases: [entry('other', 1)], ok: 0 });
    assert.equal(filterListDatabasesReply(failedWithList, allows), failedWithList);
    const cursor = reply({ cursor: { id: Long.fromNumber(0), ns: 'app.c', firstBatch: [{ name: 'other' }] }, ok: 1 });
    assert.equal(filterListDatabasesReply(cursor, allows), cursor);
    const notArray = reply({ databases: { name: 'other' }, ok: 1 });
    assert.equal(filterListDatabasesReply(notArray, allows), notArray);
    const short = Buffer.alloc(10);
    assert.equal(filterListDatabasesReply(short, allows), short);
  });

  it('leaves out entries it cannot read (fails closed)', () => {
    const body = buildDocument([
      element('databases', [{ name: 'app' }, 'other', { sizeOnDisk: 5 }, { name: 3 }, { name: 'logs_1' }]),
      element('ok', 1),
    ]);
    const raw = encodeOpMsg({ requestId: 1, body: {} });
    const message = Buffer.concat([raw.subarray(0, HEADER_SIZE + 5), body]);
    message.writeInt32LE(message.length, 0);
    const parsed = bodyOf(filterListDatabasesReply(message, allows));
    assert.deepEqual(parsed.databases, [{ name: 'app' }, { name: 'logs_1' }]);
  });

  it('drops a checksum that would no longer match, with its flag', () => {
    const raw = reply(FULL, OP_MSG_FLAGS.checksumPresent);
    const out = filterListDatabasesReply(raw, allows);
    assert.equal(out.readUInt32LE(HEADER_SIZE) & OP_MSG_FLAGS.checksumPresent, 0);
    const parsed = parseOpMsg(out);
    assert.equal(parsed.checksum, undefined);
    assert.equal(parsed.body.databases.length, 3);
  });
});

describe('filterListDatabasesReply (OP_REPLY)', () => {
  it('filters the reply to an OP_QUERY listDatabases', () => {
    const raw = encodeOpReply({ requestId: 9, responseTo: 3, documents: [FULL] });
    const out = filterListDatabasesReply(raw, allows);
    assert.equal(out.readInt32LE(0), out.length);
    const parsed = parseOpReply(out);
    assert.deepEqual([parsed.header.requestId, parsed.header.responseTo, parsed.numberReturned], [9, 3, 1]);
    const body = bodyOf(out);
    assert.deepEqual(
      body.databases.map((d: Document) => d.name),
      ['app', 'logs_1', 'logs_2'],
    );
    assert.equal(body.totalSize, 3 * MIB + 2 * MIB + 5 + 8192);
    assert.deepEqual(arrayKeys(out, { start: OP_REPLY_DOCUMENTS_OFFSET, end: out.length }), ['0', '1', '2']);
  });

  it('returns failures and other shapes unchanged', () => {
    const failure = encodeOpReply({ requestId: 9, responseTo: 3, responseFlags: OP_REPLY_FLAGS.queryFailure, documents: [FULL] });
    assert.equal(filterListDatabasesReply(failure, allows), failure);
    const two = encodeOpReply({ requestId: 9, responseTo: 3, documents: [FULL, FULL] });
    assert.equal(filterListDatabasesReply(two, allows), two);
    const error = encodeOpReply({ requestId: 9, responseTo: 3, documents: [{ ok: 0, errmsg: 'no' }] });
    assert.equal(filterListDatabasesReply(error, allows), error);
  });
});
