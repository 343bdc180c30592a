import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Code,
  Decimal128,
  type Document,
  Double,
  deserialize,
  EJSON,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  serialize,
  Timestamp,
  UUID,
} from 'bson';
import { BSON_TYPES } from '../wire/bson-walk';
import { renderBson } from './bson-render';
import { buildDocument, encodeElement, rawElement, rawString } from './test-messages';

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEY_CHARS = 'abcxyzABC_$.-é日🙂 ';
const TEXT_CHARS = 'abc xyz"\\/\n\t\u0000\u0001\u001f\u007fé€日🙂\u2028<>&\'';
const DECIMALS = [
  '0',
  '-0',
  '1.5',
  '-12345678901234567890.123',
  '1E+6144',
  '1E-6176',
  'NaN',
  'Infinity',
  '-Infinity',
  '0.000001',
  '9.999999999999999999999999999999999E+6144',
];

/** Random ordinary documents: keys that are not integer-like, not duplicated, not `$ref`/`$id`/`$db`. */
function generator(next: () => number) {
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const text = (max: number) => Array.from({ length: int(max) }, () => pick([...TEXT_CHARS])).join('');
  const key = (): string => {
    const k = Array.from({ length: 1 + int(6) }, () => pick([...KEY_CHARS])).join('');
    return /^\d+$/.test(k) || k === '$ref' || k === '$id' || k === '$db' || k === '__proto__' ? `k${k}` : k;
  };
  const scalar = (): unknown => {
    switch (int(24)) {
      case 0:
        return text(12);
      case 1:
        return int(2_000_000_000) - 1_000_000_000;
      case 2:
        return new Double(
          pick([
            0,
            -0,
            1,
            -1,
            1.5,
            0.1,
            1e21,
            1e-7,
            123456789.125,
            -5e-324,
            Number.MAX_VALUE,
            Number.NaN,
            Number.POSITIVE_INFINITY,
            Number.NEGATIVE_INFINITY,
          ]),
        );
      case 3:
        return (next() - 0.5) * 10 ** int(30);
      case 4:
        return Long.fromBigInt(BigInt(Math.floor((next() - 0.5) * 2 ** 54)));
      case 5:
        return pick([Long.fromBigInt(2n ** 53n), Long.fromBigInt(-(2n ** 53n)), Long.ZERO, Long.fromNumber(2 ** 31)]);
      case 6:
        return new Int32(int(1000) - 500);
      case 7:
        return next() < 0.5;
      case 8:
        return null;
      case 9:
        return new ObjectId(Buffer.from(Array.from({ length: 12 }, () => int(256))));
      case 10:
        // Years 1900-12000, with and without milliseconds, within what a JavaScript Date holds.
        return new Date(Math.floor((next() * 10_100 - 70) * 365.25 * 86_400_000) - (next() < 0.5 ? 0 : int(1000)));
      case 11:
        return new Date(pick([0, -1, 253402300799999, 253402300800000, 8.64e15, -8.64e15]));
      case 12:
        return Decimal128.fromString(pick(DECIMALS));
      case 13:
        return new Timestamp({ t: int(2 ** 32), i: int(2 ** 32) });
      case 14:
        return next() < 0.5 ? new MinKey() : new MaxKey();
      case 15:
        return new BSONRegExp(text(6).replace(/\0/g, ''), [...'imsux'].filter(() => next() < 0.4).join(''));
      case 16:
        return new Code(text(10));
      case 17:
        return new BSONSymbol(text(5));
      case 18:
        return new Binary(Buffer.from(Array.from({ length: int(40) }, () => int(256))), pick([0, 1, 2, 3, 5, 6, 7, 8, 0x80]));
      case 19:
        return new UUID();
      case 20:
        return new Binary(Buffer.alloc(int(20)), 4);
      case 21:
        // Low and high words both set, within ±2^52.
        return new Long(int(2 ** 32) | 0, int(2 ** 21) - 2 ** 20, false);
      default:
        return text(40);
    }
  };
  const value = (depth: number): unknown => {
    const roll = next();
    if (depth < 4 && roll < 0.15) return document(depth + 1);
    if (depth < 4 && roll < 0.25) return Array.from({ length: int(5) }, () => value(depth + 1));
    if (depth < 3 && roll < 0.27) return new Code(text(8), document(depth + 1));
    return scalar();
  };
  const document = (depth: number): Document => {
    const out: Document = {};
    const n = int(7);
    for (let i = 0; i < n; i++) {
      const k = key();
      if (!(k in out)) out[k] = value(depth);
    }
    return out;
  };
  return () => document(0);
}

/** What the recorder shows for binary: its size, except for UUIDs. Applied to a decoded document. */
function summarizeBinaries(value: unknown): unknown {
  if (value instanceof Binary) {
    const size = value.position;
    return value.sub_type === 4 && size === 16 ? value : `<binary ${size} bytes>`;
  }
  if (Array.isArray(value)) return value.map(summarizeBinaries);
  if (value instanceof Code) return value.scope ? new Code(value.code, summarizeBinaries(value.scope) as Document) : value;
  if (
    value !== null &&
    typeof value === 'object' &&
    (value as { _bsontype?: string })._bsontype === undefined &&
    !(value instanceof Date)
  ) {
    const out: Document = {};
    for (const [k, v] of Object.entries(value)) out[k] = summarizeBinaries(v);
    return out;
  }
  return value;
}

function ejson(bytes: Buffer): string {
  return EJSON.stringify(deserialize(bytes, { bsonRegExp: true }), { relaxed: true });
}

function render(bytes: Buffer, options: Parameters<typeof renderBson>[3] = {}): string {
  return renderBson(bytes, 0, bytes.length, options).text;
}

/** Longs beyond ±2^53 are not exact in a double: bson writes them rounded, the renderer exactly (tested apart). */
function hasInexactLong(value: unknown): boolean {
  // A Timestamp is a Long to Long.isLong: ask for the type itself.
  if (value instanceof Long && value._bsontype === 'Long')
    return value.greaterThan(Long.fromBigInt(2n ** 53n)) || value.lessThan(Long.fromBigInt(-(2n ** 53n)));
  if (value instanceof Code) return hasInexactLong(value.scope);
  if (value instanceof Date) return Math.abs(value.getTime()) > 8.64e15;
  if (value !== null && typeof value === 'object' && (value as { _bsontype?: string })._bsontype === undefined)
    return Object.values(value).some(hasInexactLong);
  return false;
}

describe('renderBson', () => {
  it('renders random ordinary documents exactly as EJSON.stringify(deserialize(bytes), { relaxed: true }) does', () => {
    const seed = Number(process.env.RENDER_SEED ?? 20261202);
    const next = random(seed);
    const generate = generator(next);
    let compared = 0;
    for (let i = 0; i < 1500; i++) {
      const document = generate();
      if (hasInexactLong(document)) continue;
      const bytes = Buffer.from(serialize(document));
      assert.equal(render(bytes), ejson(bytes), `seed ${seed}, document ${i}`);
      compared++;
    }
    assert.ok(compared > 1400, `${compared} documents compared`);
  });

  it('in summary mode, differs from EJSON only in binary shown by size (UUIDs in full)', () => {
    const next = random(7);
    const generate = generator(next);
    for (let i = 0; i < 500; i++) {
      const document = generate();
      if (hasInexactLong(document)) continue;
      const bytes = Buffer.from(serialize(document));
      const expected = EJSON.stringify(summarizeBinaries(deserialize(bytes, { bsonRegExp: true })) as Document, { relaxed: true });
      assert.equal(render(bytes, { binary: 'summary' }), expected, `document ${i}`);
    }
  });

  it('keeps elements in byte order: integer-like keys are not moved first', () => {
    const bytes = buildDocument([
      encodeElement('b', 1),
      encodeElement('10', 2),
      encodeElement('2', 3),
      encodeElement('a', 4),
      encodeElement('0', 5),
    ]);
    assert.equal(render(bytes), '{"b":1,"10":2,"2":3,"a":4,"0":5}');
    // A decode would reorder them: the reason the gateway renders from the bytes.
    assert.equal(ejson(bytes), '{"0":5,"2":3,"10":2,"b":1,"a":4}');
  });

  it('shows a duplicate key as often as it was sent, at any depth', () => {
    const inner = buildDocument([encodeElement('x', 1), encodeElement('x', 'two'), encodeElement('x', { three: 3 })]);
    const bytes = buildDocument([encodeElement('user', 'a'), encodeElement('user', 'b'), rawElement(BSON_TYPES.document, 'in', inner)]);
    assert.equal(render(bytes), '{"user":"a","user":"b","in":{"x":1,"x":"two","x":{"three":3}}}');
    assert.equal(ejson(bytes), '{"user":"b","in":{"x":{"three":3}}}');
  });

  it('writes numbers as relaxed EJSON does: 1.0 as 1, -0.0 as 0, NaN and infinities as $numberDouble', () => {
    const bytes = Buffer.from(
      serialize({
        one: new Double(1),
        negZero: new Double(-0),
        nan: Number.NaN,
        inf: Number.POSITIVE_INFINITY,
        ninf: Number.NEGATIVE_INFINITY,
        big: 1e21,
      }),
    );
    const expected =
      '{"one":1,"negZero":0,"nan":{"$numberDouble":"NaN"},"inf":{"$numberDouble":"Infinity"},"ninf":{"$numberDouble":"-Infinity"},"big":1e+21}';
    assert.equal(render(bytes), expected);
    assert.equal(ejson(bytes), expected);
  });

  it('writes dates as ISO strings for years 1970-9999, else as $numberLong', () => {
    const bytes = Buffer.from(serialize({ epoch: new Date(0), ms: new Date(1234), before: new Date(-1), y10k: new Date(253402300800000) }));
    const expected =
      '{"epoch":{"$date":"1970-01-01T00:00:00Z"},"ms":{"$date":"1970-01-01T00:00:01.234Z"},"before":{"$date":{"$numberLong":"-1"}},"y10k":{"$date":{"$numberLong":"253402300800000"}}}';
    assert.equal(render(bytes), expected);
    assert.equal(ejson(bytes), expected);
  });

  it('keeps what a decode would lose: exact large int64, out-of-range dates, regex options in their order', () => {
    const max = Buffer.alloc(8);
    max.writeBigInt64LE(2n ** 63n - 1n);
    const farDate = Buffer.alloc(8);
    farDate.writeBigInt64LE(-(2n ** 62n));
    const bytes = buildDocument([
      rawElement(BSON_TYPES.int64, 'max', max),
      encodeElement('safe', Long.fromBigInt(2n ** 53n)),
      rawElement(BSON_TYPES.date, 'far', farDate),
      rawElement(BSON_TYPES.regex, 're', Buffer.from('a.b\0xi\0')),
    ]);
    assert.equal(
      render(bytes),
      '{"max":{"$numberLong":"9223372036854775807"},"safe":9007199254740992,"far":{"$date":{"$numberLong":"-4611686018427387904"}},"re":{"$regularExpression":{"pattern":"a.b","options":"xi"}}}',
    );
  });

  it('renders the types bson does not write from JavaScript: undefined, DBPointer, code with scope', () => {
    const oid = Buffer.from('65a1b2c3d4e5f60718293a4b', 'hex');
    const scope = buildDocument([encodeElement('n', 1)]);
    const code = rawString(Buffer.from('return n'));
    const withScope = Buffer.alloc(4 + code.length + scope.length);
    withScope.writeInt32LE(withScope.length, 0);
    code.copy(withScope, 4);
    scope.copy(withScope, 4 + code.length);
    const bytes = buildDocument([
      rawElement(BSON_TYPES.undefined, 'u'),
      rawElement(BSON_TYPES.dbPointer, 'p', Buffer.concat([rawString(Buffer.from('db.coll')), oid])),
      rawElement(BSON_TYPES.dbPointer, 'q', Buffer.concat([rawString(Buffer.from('a.b.c')), oid])),
      rawElement(BSON_TYPES.javascriptWithScope, 'f', withScope),
    ]);
    // bson reads a DBPointer as a DBRef, which splits a two-part namespace into $ref and $db.
    const expected =
      '{"u":null,"p":{"$ref":"coll","$id":{"$oid":"65a1b2c3d4e5f60718293a4b"},"$db":"db"},"q":{"$ref":"a.b.c","$id":{"$oid":"65a1b2c3d4e5f60718293a4b"}},"f":{"$code":"return n","$scope":{"n":1}}}';
    assert.equal(render(bytes), expected);
    assert.equal(ejson(bytes), expected);
  });

  it('replaces invalid UTF-8 in keys and strings instead of throwing', () => {
    const bytes = buildDocument([
      Buffer.concat([Buffer.from([BSON_TYPES.string, 0x6b, 0xff, 0]), rawString(Buffer.from([0xc3, 0x28, 0x61]))]),
      rawElement(BSON_TYPES.symbol, 's', rawString(Buffer.from([0xed, 0xa0, 0x80]))),
    ]);
    assert.equal(render(bytes), '{"k\ufffd":"\ufffd(a","s":"\ufffd\ufffd\ufffd"}');
    assert.throws(() => deserialize(bytes), 'bson refuses the same bytes');
  });

  it('elides what is past the budget, saying how many array elements were left out', () => {
    const bytes = Buffer.from(serialize({ list: Array.from({ length: 1000 }, (_, i) => i), after: { a: 1 }, last: 'x' }));
    const rendered = renderBson(bytes, 0, bytes.length, { budget: 50 });
    assert.equal(rendered.elided, true);
    assert.match(rendered.text, /^\{"list":\[0,1,2,[\d,]+,"…<\d+ more>"\],"…":"<more fields>"\}$/);
    const shown = rendered.text.match(/\[([\d,]+),"…<(\d+) more>"/);
    assert.ok(shown);
    assert.equal(shown[1].split(',').length + Number(shown[2]), 1000);
    assert.doesNotThrow(() => JSON.parse(rendered.text));
  });

  it('cuts a string that crosses the budget, masking it whole first', () => {
    const secret = 'mongodb://u:hunter2@host';
    const bytes = Buffer.from(serialize({ a: 'y'.repeat(20), b: `${'z'.repeat(15)}${secret}` }));
    const rendered = renderBson(bytes, 0, bytes.length, {
      budget: 50,
      maskText: (text) => text.replace(/:[^:@]*@/, ':***@'),
    });
    assert.equal(rendered.elided, true);
    assert.doesNotMatch(rendered.text, /hunter/);
    assert.match(rendered.text, /^\{"a":"y{20}","b":"z+[^"]*…<\d+ more characters>"\}$/);
  });

  it('never splits a surrogate pair when cutting', () => {
    const bytes = Buffer.from(serialize({ s: '🙂'.repeat(100) }));
    for (let budget = 5; budget < 20; budget++) {
      const { text } = renderBson(bytes, 0, bytes.length, { budget });
      assert.doesNotMatch(JSON.parse(text).s, /[\ud800-\udbff](?![\udc00-\udfff])/, `budget ${budget}`);
    }
  });

  it('stops at the depth cap without reading further', () => {
    let document: Document = { leaf: 1 };
    for (let i = 0; i < 10; i++) document = { d: document };
    const bytes = Buffer.from(serialize(document));
    const rendered = renderBson(bytes, 0, bytes.length, { maxDepth: 3 });
    assert.equal(rendered.text, '{"d":{"d":{"d":{"d":"<nested too deep>"}}}}');
    assert.equal(rendered.elided, true);
  });

  it('skips, masks and appends as told', () => {
    const bytes = Buffer.from(serialize({ find: 'c', lsid: { id: 1 }, pwd: [1, 2], filter: { pwd: { a: 1 } }, $db: 'x' }));
    const text = render(bytes, {
      skipTopLevel: (key) => key === 'lsid' || key === '$db',
      secretKey: (key) => key === 'pwd',
      appendTopLevel: [['documents', '<2 documents>']],
    });
    assert.equal(text, '{"find":"c","pwd":"***","filter":{"pwd":"***"},"documents":"<2 documents>"}');
  });
});
