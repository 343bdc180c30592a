import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serialize } from 'bson';
import { OP_REPLY_FLAGS } from './constants';
import { WireProtocolError } from './errors';
import { encodeOpQuery, parseOpQuery } from './op-query';
import { encodeOpReply, parseOpReply } from './op-reply';

function withLength(raw: Buffer): Buffer {
  const copy = Buffer.from(raw);
  copy.writeInt32LE(copy.length, 0);
  return copy;
}

describe('OP_QUERY codec', () => {
  it('round-trips the legacy hello with and without a field selector', () => {
    const raw = encodeOpQuery({
      requestId: 3,
      flags: 4,
      fullCollectionName: 'admin.$cmd',
      numberToReturn: -1,
      query: { isMaster: 1, helloOk: true, client: { driver: { name: 'nodejs' } } },
    });
    const q = parseOpQuery(raw);
    assert.deepEqual(
      { ...q, header: undefined },
      {
        header: undefined,
        flags: 4,
        fullCollectionName: 'admin.$cmd',
        numberToSkip: 0,
        numberToReturn: -1,
        query: { isMaster: 1, helloOk: true, client: { driver: { name: 'nodejs' } } },
      },
    );
    assert.deepEqual(
      encodeOpQuery({ requestId: 3, flags: 4, fullCollectionName: q.fullCollectionName, numberToReturn: -1, query: q.query }),
      raw,
    );
    const withSelector = parseOpQuery(
      encodeOpQuery({ requestId: 4, fullCollectionName: 'db.c', query: { a: 1 }, returnFieldsSelector: { a: 1 } }),
    );
    assert.deepEqual(withSelector.returnFieldsSelector, { a: 1 });
  });

  const ok = encodeOpQuery({ requestId: 1, fullCollectionName: 'admin.$cmd', query: { hello: 1 } });
  const table: [string, Buffer, RegExp][] = [
    [
      'reserved flag bit 0',
      (() => withLength(Buffer.concat([ok.subarray(0, 16), Buffer.from([1, 0, 0, 0]), ok.subarray(20)])))(),
      /reserved flag/,
    ],
    ['unterminated collection name', withLength(Buffer.concat([ok.subarray(0, 20), Buffer.from('admin.$cmd')])), /not NUL-terminated/],
    ['collection name without a dot', encodeOpQuery({ requestId: 1, fullCollectionName: 'admin', query: { hello: 1 } }), /not of the form/],
    [
      'missing numberToReturn',
      withLength(Buffer.concat([ok.subarray(0, 20), Buffer.from('a.$cmd\0'), Buffer.from([0, 0, 0, 0])])),
      /numberToSkip/,
    ],
    ['missing query', withLength(ok.subarray(0, 20 + 11 + 8)), /truncated/],
    [
      'trailing bytes after the selector',
      withLength(Buffer.concat([ok, Buffer.from(serialize({})), Buffer.from([9])])),
      /runs past|unexpected bytes/,
    ],
  ];
  for (const [name, raw, message] of table) {
    it(`rejects: ${name}`, () =>
      assert.throws(
        () => parseOpQuery(raw),
        (e: unknown) => e instanceof WireProtocolError && message.test(e.message),
      ));
  }
});

describe('OP_REPLY codec', () => {
  it('round-trips documents, cursor id and flags', () => {
    const raw = encodeOpReply({
      requestId: 9,
      responseTo: 3,
      responseFlags: OP_REPLY_FLAGS.awaitCapable,
      cursorId: 123456789012345n,
      documents: [{ a: 1 }, { b: 2 }],
    });
    const r = parseOpReply(raw);
    assert.equal(r.header.responseTo, 3);
    assert.equal(r.responseFlags, OP_REPLY_FLAGS.awaitCapable);
    assert.equal(r.cursorId, 123456789012345n);
    assert.equal(r.numberReturned, 2);
    assert.deepEqual(r.documents, [{ a: 1 }, { b: 2 }]);
    assert.deepEqual(encodeOpReply({ requestId: 9, responseTo: 3, responseFlags: 8, cursorId: r.cursorId, documents: r.documents }), raw);
  });

  it('rejects a numberReturned that does not match the documents', () => {
    const raw = encodeOpReply({ requestId: 1, responseTo: 1, documents: [{ a: 1 }] });
    for (const n of [0, 2, -1, 0x7fffffff]) {
      const bad = Buffer.from(raw);
      bad.writeInt32LE(n, 32);
      assert.throws(() => parseOpReply(bad), WireProtocolError, `numberReturned ${n}`);
    }
  });

  it('rejects a reply cut inside its fixed fields', () => {
    assert.throws(
      () => parseOpReply(withLength(encodeOpReply({ requestId: 1, responseTo: 1, documents: [] }).subarray(0, 30))),
      /inside the reply fields/,
    );
  });
});
