import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Binary, BSONRegExp, Code, Decimal128, Long, MaxKey, MinKey, ObjectId, serialize, Timestamp } from 'bson';
import { countDocumentElements, keyOf, numberValue, stringValue, walkDocument } from './bson-walk';
import { WireProtocolError } from './errors';

describe('BSON element walker', () => {
  it('skips every BSON type by its size and reads keys and scalar values', () => {
    const doc = {
      d: 1.5,
      s: 'héllo',
      o: { x: 1 },
      a: [1, 2, 3],
      b: new Binary(Buffer.from([1, 2, 3])),
      id: new ObjectId(),
      t: true,
      date: new Date(0),
      n: null,
      re: new BSONRegExp('a+b', 'i'),
      code: new Code('x', { y: 1 }),
      i: 7,
      ts: new Timestamp({ t: 1, i: 2 }),
      l: Long.fromNumber(2 ** 40),
      dec: Decimal128.fromString('1.1'),
      min: new MinKey(),
      max: new MaxKey(),
    };
    const buf = Buffer.from(serialize(doc));
    const keys: string[] = [];
    const values: Record<string, unknown> = {};
    walkDocument(buf, 0, buf.length, 'doc', (e) => {
      const key = keyOf(buf, e);
      keys.push(key);
      values[key] = numberValue(buf, e) ?? stringValue(buf, e);
    });
    assert.deepEqual(keys, Object.keys(doc));
    assert.equal(values.d, 1.5);
    assert.equal(values.s, 'héllo');
    assert.equal(values.i, 7);
    assert.equal(values.l, 2 ** 40);
    assert.equal(values.t, 1);
    assert.equal(countDocumentElements(buf, 0, buf.length, 'doc'), keys.length);
  });

  it('stops early when the visitor returns false', () => {
    const buf = Buffer.from(serialize({ a: 1, b: 2, c: 3 }));
    let seen = 0;
    walkDocument(buf, 0, buf.length, 'doc', () => ++seen < 2);
    assert.equal(seen, 2);
  });

  it('rejects malformed documents with WireProtocolError', () => {
    const good = Buffer.from(serialize({ a: 'xyz', b: 1 }));
    const cases: Buffer[] = [];
    const unknownType = Buffer.from(good);
    unknownType[4] = 0x42;
    cases.push(unknownType);
    const longString = Buffer.from(good);
    longString.writeInt32LE(1000, 7);
    cases.push(longString);
    const zeroString = Buffer.from(good);
    zeroString.writeInt32LE(0, 7);
    cases.push(zeroString);
    cases.push(good.subarray(0, good.length - 1));
    const noNul = Buffer.from(good);
    noNul[noNul.length - 1] = 1;
    cases.push(noNul);
    for (const bad of cases) {
      assert.throws(() => walkDocument(bad, 0, bad.length, 'doc', () => true), WireProtocolError, bad.toString('hex'));
      assert.throws(() => countDocumentElements(bad, 0, bad.length, 'doc'), WireProtocolError);
    }
  });
});
