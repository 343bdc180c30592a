import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Long, serialize } from 'bson';
import { OP_MSG_FLAGS } from './constants';
import { crc32c } from './crc32c';
import { WireProtocolError } from './errors';
import { encodeOpMsg, parseOpMsg } from './op-msg';

/** Builds an OP_MSG by hand from raw sections, so malformed layouts can be expressed. */
function rawOpMsg(flags: number, sections: Buffer[], trailer: Buffer = Buffer.alloc(0)): Buffer {
  const flagBytes = Buffer.alloc(4);
  flagBytes.writeUInt32LE(flags >>> 0);
  const payload = Buffer.concat([flagBytes, ...sections, trailer]);
  const header = Buffer.alloc(16);
  header.writeInt32LE(16 + payload.length, 0);
  header.writeInt32LE(7, 4);
  header.writeInt32LE(2013, 12);
  return Buffer.concat([header, payload]);
}
const body = (doc: object) => Buffer.concat([Buffer.from([0]), Buffer.from(serialize(doc))]);
function sequence(identifier: string, docs: object[], sizeDelta = 0): Buffer {
  const id = Buffer.from(`${identifier}\0`);
  const docBytes = docs.map((d) => Buffer.from(serialize(d)));
  const size = Buffer.alloc(4);
  size.writeInt32LE(4 + id.length + docBytes.reduce((n, d) => n + d.length, 0) + sizeDelta);
  return Buffer.concat([Buffer.from([1]), size, id, ...docBytes]);
}

function rejects(raw: Buffer, message: RegExp): void {
  assert.throws(
    () => parseOpMsg(raw, { requireDb: true }),
    (error: unknown) => error instanceof WireProtocolError && message.test(error.message),
  );
}

describe('OP_MSG codec', () => {
  it('round-trips a body with document sequences, keeping int64 as int64', () => {
    const raw = encodeOpMsg({
      requestId: 42,
      responseTo: 7,
      body: { getMore: Long.fromNumber(5), collection: 'c', $db: 'app' },
      sequences: [{ identifier: 'documents', documents: [{ a: 1 }, { b: 'x' }] }],
    });
    const msg = parseOpMsg(raw, { requireDb: true });
    assert.deepEqual(msg.header, { messageLength: raw.length, requestId: 42, responseTo: 7, opCode: 2013 });
    assert.equal(msg.flags, 0);
    assert.ok(Long.isLong(msg.body.getMore), 'cursor ids stay Long so re-encoding keeps them int64');
    assert.deepEqual(msg.sequences, [{ identifier: 'documents', documents: [{ a: 1 }, { b: 'x' }] }]);
    assert.equal(msg.checksum, undefined);
    const again = encodeOpMsg({ requestId: 42, responseTo: 7, body: msg.body, sequences: msg.sequences });
    assert.deepEqual(again, raw);
  });

  it('computes a CRC-32C checksum on encode and verifies it on parse', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283, 'standard CRC-32C check value');
    const raw = encodeOpMsg({ requestId: 1, flags: OP_MSG_FLAGS.checksumPresent, body: { ping: 1, $db: 'admin' } });
    const msg = parseOpMsg(raw);
    assert.equal(msg.checksum, raw.readUInt32LE(raw.length - 4));
    assert.equal(msg.checksum, crc32c(raw, 0, raw.length - 4));
    const corrupted = Buffer.from(raw);
    corrupted[25] ^= 0x01;
    rejects(corrupted, /checksum mismatch/);
  });

  it('accepts moreToCome and the optional exhaustAllowed bit', () => {
    const flags = OP_MSG_FLAGS.moreToCome | OP_MSG_FLAGS.exhaustAllowed | (1 << 20);
    const msg = parseOpMsg(encodeOpMsg({ requestId: 1, flags, body: { hello: 1, $db: 'admin' } }));
    assert.equal(msg.flags, flags >>> 0);
  });

  it('reads a server reply without $db unless $db is required', () => {
    const raw = encodeOpMsg({ requestId: 1, responseTo: 3, body: { ok: 1 } });
    assert.deepEqual(parseOpMsg(raw).body, { ok: 1 });
    rejects(raw, /no \$db/);
  });

  const table: [string, Buffer, RegExp][] = [
    ['no body section', rawOpMsg(0, [sequence('documents', [{ a: 1 }])]), /body section missing/],
    ['two body sections', rawOpMsg(0, [body({ find: 'c', $db: 'a' }), body({ find: 'd', $db: 'a' })]), /more than one body/],
    ['$db not a string', rawOpMsg(0, [body({ find: 'c', $db: 1 })]), /\$db must be a string/],
    ['empty $db', rawOpMsg(0, [body({ find: 'c', $db: '' })]), /\$db is empty/],
    ['$db twice', rawOpMsg(0, [Buffer.concat([Buffer.from([0]), twoDbKeys()])]), /\$db appears more than once/],
    [
      'sequence size larger than the message',
      rawOpMsg(0, [body({ insert: 'c', $db: 'a' }), sequence('documents', [{ a: 1 }], 10)]),
      /runs past/,
    ],
    [
      'sequence size smaller than its documents',
      rawOpMsg(0, [body({ insert: 'c', $db: 'a' }), sequence('documents', [{ a: 1 }], -3)]),
      /document/,
    ],
    ['sequence size below minimum', rawOpMsg(0, [body({ insert: 'c', $db: 'a' }), Buffer.from([1, 2, 0, 0, 0])]), /too small/],
    [
      'field in body and sequence',
      rawOpMsg(0, [body({ insert: 'c', documents: [], $db: 'a' }), sequence('documents', [{ a: 1 }])]),
      /both the body/,
    ],
    [
      'the same sequence twice',
      rawOpMsg(0, [body({ insert: 'c', $db: 'a' }), sequence('documents', [{ a: 1 }]), sequence('documents', [{ a: 2 }])]),
      /appears twice/,
    ],
    ['unknown section kind', rawOpMsg(0, [body({ ping: 1, $db: 'a' }), Buffer.from([2, 0, 0, 0, 0])]), /unknown section kind 2/],
    ['unknown required flag bit', rawOpMsg(1 << 3, [body({ ping: 1, $db: 'a' })]), /unknown required flag bits 0x8/],
    ['checksum flag without checksum bytes', rawOpMsg(OP_MSG_FLAGS.checksumPresent, []), /checksum bytes are missing/],
    ['message ends before flags', Buffer.from([18, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xdd, 0x07, 0, 0, 0, 0]), /before the flag bits/],
    ['truncated body document', truncatedBody(), /header says|runs past/],
    ['body document length too small', rawOpMsg(0, [Buffer.from([0, 3, 0, 0, 0, 0])]), /smaller than 5/],
    ['invalid BSON inside the body', rawOpMsg(0, [Buffer.from([0, 8, 0, 0, 0, 0x42, 0x61, 0, 0])]), /invalid BSON/],
    [
      'header length differs from the buffer',
      Buffer.concat([encodeOpMsg({ requestId: 1, body: { ping: 1, $db: 'a' } }), Buffer.from([0])]),
      /header says/,
    ],
  ];
  for (const [name, raw, message] of table) {
    it(`rejects: ${name}`, () => rejects(raw, message));
  }
});

function twoDbKeys(): Buffer {
  // {ping: 1, $db: "a", $db: "b"} cannot be built from a JS object; write the bytes.
  const elements = Buffer.concat([
    Buffer.from([0x10]),
    Buffer.from('ping\0'),
    Buffer.from([1, 0, 0, 0]),
    Buffer.from([0x02]),
    Buffer.from('$db\0'),
    Buffer.from([2, 0, 0, 0]),
    Buffer.from('a\0'),
    Buffer.from([0x02]),
    Buffer.from('$db\0'),
    Buffer.from([2, 0, 0, 0]),
    Buffer.from('b\0'),
  ]);
  const size = Buffer.alloc(4);
  size.writeInt32LE(4 + elements.length + 1);
  return Buffer.concat([size, elements, Buffer.from([0])]);
}

function truncatedBody(): Buffer {
  const raw = encodeOpMsg({ requestId: 1, body: { find: 'c', filter: { a: 'xxxxxxxx' }, $db: 'a' } });
  const cut = raw.subarray(0, raw.length - 6);
  const fixed = Buffer.from(cut);
  fixed.writeInt32LE(fixed.length, 0);
  return fixed;
}
