import { Decimal128 } from 'bson';
import { BSON_TYPES, type BsonElement, countDocumentElements, walkDocument } from '../wire/bson-walk';
import { WireProtocolError } from '../wire/errors';

/*
 * Renders a BSON document as compact relaxed Extended JSON straight from its bytes, the way
 * `EJSON.stringify(deserialize(bytes, { bsonRegExp: true }), { relaxed: true })` renders an ordinary document, but
 * with every element where and as often as it is in the bytes: integer-like keys stay where they were sent (a
 * decoded JavaScript object enumerates them first) and a duplicate key appears twice (a decode keeps the last).
 * The log then shows what the server received.
 *
 * Values, as bson's EJSON writes them in relaxed mode: double and int32 as numbers (1.0 → `1`, -0.0 → `0`), NaN and
 * ±Infinity as `{"$numberDouble":"NaN"}`; objectId `{"$oid":…}`; date `{"$date":"<ISO>"}` for years 1970-9999 (the
 * milliseconds only when not zero), else `{"$date":{"$numberLong":"<ms>"}}`; decimal `{"$numberDecimal":…}`; regex
 * `{"$regularExpression":{"pattern":…,"options":…}}`; timestamp `{"$timestamp":{"t":…,"i":…}}`; `{"$minKey":1}`,
 * `{"$maxKey":1}`; binary `{"$binary":{"base64":…,"subType":"hh"}}`; code `{"$code":…}` (and `"$scope"`); symbol as
 * a string; undefined as null; DBPointer as the DBRef bson reads (`{"$ref":…,"$id":{"$oid":…}}`, with `"$db"` split
 * off a two-part namespace).
 * Where bson loses information this keeps it: an int64 beyond ±2^53 is `{"$numberLong":"<exact>"}` (bson writes a
 * rounded number), a date beyond what JavaScript can hold keeps its milliseconds (bson writes "NaN"), regex options
 * are kept in their order, invalid UTF-8 becomes U+FFFD instead of an exception.
 *
 * Bounded work: nesting deeper than `maxDepth` is shown as "<nested too deep>" without being read (the recursion
 * never goes deeper than that), and once `budget` characters are written the rest of every open document or array
 * is elided with a marker, so a 48 MB command costs about the budget, plus one pass over the string that crosses it
 * (to mask it whole) and one over each array it elides (to count what was left out).
 */

export interface BsonRenderOptions {
  /** Characters to write before eliding the rest (default: no limit). */
  budget?: number;
  /** Documents and arrays nested deeper than this (the top-level document's fields are at depth 1) are not shown (default 64). */
  maxDepth?: number;
  /** Binary values in full, or as `<binary N bytes>` with UUIDs (subtype 4, 16 bytes) still in full (default full). */
  binary?: 'full' | 'summary';
  /** True when the value of an element with this key must be hidden: it is written as `"***"`, whatever its type. */
  secretKey?: (key: string) => boolean;
  /** Applied to every text value (strings, symbols, code, regex patterns) before it is written. */
  maskText?: (text: string) => string;
  /** Top-level keys left out. */
  skipTopLevel?: (key: string) => boolean;
  /** String fields added at the end of the top-level document, after its own. */
  appendTopLevel?: ReadonlyArray<readonly [string, string]>;
}

export interface RenderedBson {
  text: string;
  /** Something was left out: a part elided for the budget, a string cut, or nesting too deep. */
  elided: boolean;
}

// Read once: under a CommonJS transform each access to an imported binding goes through a getter, on every element.
const {
  double: DOUBLE,
  string: STRING,
  document: DOCUMENT,
  array: ARRAY,
  binary: BINARY,
  undefined: UNDEFINED,
  objectId: OBJECT_ID,
  boolean: BOOLEAN,
  date: DATE,
  null: NULL,
  regex: REGEX,
  dbPointer: DB_POINTER,
  javascript: JAVASCRIPT,
  symbol: SYMBOL,
  javascriptWithScope: JAVASCRIPT_WITH_SCOPE,
  int32: INT32,
  timestamp: TIMESTAMP,
  int64: INT64,
  decimal128: DECIMAL128,
  minKey: MIN_KEY,
  maxKey: MAX_KEY,
} = BSON_TYPES;
const walk = walkDocument;
const countElements = countDocumentElements;

export const MASKED_VALUE = '"***"';
export const DEFAULT_MAX_RENDER_DEPTH = 64;
/** First instant of year 10000: relaxed dates are ISO strings only for years 1970-9999. */
const MAX_ISO_DATE_MS = 253402300800000;
const MAX_EXACT_INTEGER = 2 ** 53;

/** Renders the BSON document at [start, end) of `buf`. Throws a WireProtocolError when the document is malformed. */
export function renderBson(buf: Buffer, start: number, end: number, options: BsonRenderOptions = {}): RenderedBson {
  const renderer = new Renderer(buf, options);
  renderer.document(start, end, 0, false);
  return { text: renderer.parts.join(''), elided: renderer.elided };
}

class Renderer {
  readonly parts: string[] = [];
  elided = false;
  private budget: number;
  private readonly maxDepth: number;
  private readonly summarizeBinary: boolean;

  constructor(
    private readonly buf: Buffer,
    private readonly options: BsonRenderOptions,
  ) {
    this.budget = options.budget ?? Number.POSITIVE_INFINITY;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_RENDER_DEPTH;
    this.summarizeBinary = options.binary === 'summary';
  }

  private write(text: string): void {
    this.parts.push(text);
    this.budget -= text.length;
  }

  /** A document or array whose own elements are at `depth + 1`; the top-level document is depth 0. */
  document(start: number, end: number, depth: number, isArray: boolean): void {
    const { buf, options } = this;
    const top = depth === 0;
    const skip = top ? options.skipTopLevel : undefined;
    const secretKey = isArray ? undefined : options.secretKey;
    this.write(isArray ? '[' : '{');
    let first = true;
    let seen = 0;
    walk(buf, start, end, 'command', (element) => {
      const key = isArray ? '' : shortText(buf, element.keyStart, element.keyEnd);
      if (skip?.(key)) {
        seen++;
        return true;
      }
      if (this.budget <= 0) {
        this.elided = true;
        if (!first) this.write(',');
        first = false;
        if (isArray) this.write(JSON.stringify(`…<${countElements(buf, start, end, 'command') - seen} more>`));
        else this.write('"…":"<more fields>"');
        return false;
      }
      seen++;
      if (!first) this.write(',');
      first = false;
      if (!isArray) this.write(`${jsonString(key)}:`);
      if (secretKey?.(key)) this.write(MASKED_VALUE);
      else this.value(element, depth + 1);
      return true;
    });
    if (top && options.appendTopLevel) {
      for (const [key, value] of options.appendTopLevel) {
        if (!first) this.write(',');
        first = false;
        this.write(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
      }
    }
    this.write(isArray ? ']' : '}');
  }

  private nested(start: number, end: number, depth: number, isArray: boolean): void {
    if (depth > this.maxDepth) {
      this.elided = true;
      this.write('"<nested too deep>"');
      return;
    }
    this.document(start, end, depth, isArray);
  }

  /** The element's value, written at `depth` (the depth of a document it holds). */
  private value(element: BsonElement, depth: number): void {
    const { buf } = this;
    const at = element.valueStart;
    switch (element.type) {
      case DOUBLE: {
        const value = buf.readDoubleLE(at);
        // JSON.stringify writes -0 as 0, as EJSON's relaxed mode does.
        this.write(Number.isFinite(value) ? JSON.stringify(value) : `{"$numberDouble":"${String(value)}"}`);
        return;
      }
      case STRING:
      case SYMBOL:
        this.text(at + 4, element.valueEnd - 1);
        return;
      case DOCUMENT:
      case ARRAY:
        this.nested(at, element.valueEnd, depth, element.type === ARRAY);
        return;
      case BINARY:
        this.binary(at, element.valueEnd);
        return;
      case UNDEFINED:
      case NULL:
        this.write('null');
        return;
      case OBJECT_ID:
        this.write(`{"$oid":"${buf.toString('hex', at, at + 12)}"}`);
        return;
      case BOOLEAN:
        this.write(buf[at] === 0 ? 'false' : 'true');
        return;
      case DATE:
        this.write(dateJson(int64At(buf, at)));
        return;
      case REGEX: {
        const patternEnd = buf.indexOf(0, at);
        this.write('{"$regularExpression":{"pattern":');
        this.text(at, patternEnd);
        this.write(`,"options":${JSON.stringify(buf.toString('utf8', patternEnd + 1, element.valueEnd - 1))}}}`);
        return;
      }
      case DB_POINTER: {
        // As bson reads it: a DBRef, whose constructor splits a two-part namespace into collection and database.
        const oid = element.valueEnd - 12;
        const id = `{"$oid":"${buf.toString('hex', oid, element.valueEnd)}"}`;
        const namespace = buf.toString('utf8', at + 4, oid - 1);
        const parts = namespace.split('.');
        if (parts.length === 2) {
          this.write('{"$ref":');
          this.string(parts[1]);
          this.write(`,"$id":${id},"$db":`);
          this.string(parts[0]);
          this.write('}');
        } else {
          this.write('{"$ref":');
          this.string(namespace);
          this.write(`,"$id":${id}}`);
        }
        return;
      }
      case JAVASCRIPT:
        this.write('{"$code":');
        this.text(at + 4, element.valueEnd - 1);
        this.write('}');
        return;
      case JAVASCRIPT_WITH_SCOPE: {
        // int32 total size, string (int32 length, bytes, NUL), scope document.
        const codeStart = at + 8;
        const codeLength = element.valueEnd - at >= 8 ? buf.readInt32LE(at + 4) : -1;
        const scope = codeStart + codeLength;
        if (codeLength < 1 || scope + 5 > element.valueEnd) {
          throw new WireProtocolError('code with scope: the code string does not fit its element', 'InvalidBSON');
        }
        this.write('{"$code":');
        this.text(codeStart, scope - 1);
        this.write(',"$scope":');
        this.nested(scope, element.valueEnd, depth, false);
        this.write('}');
        return;
      }
      case INT32:
        this.write(String(buf.readInt32LE(at)));
        return;
      case TIMESTAMP:
        this.write(`{"$timestamp":{"t":${buf.readUInt32LE(at + 4)},"i":${buf.readUInt32LE(at)}}}`);
        return;
      case INT64: {
        const value = int64At(buf, at);
        this.write(typeof value === 'number' ? String(value) : `{"$numberLong":"${value}"}`);
        return;
      }
      case DECIMAL128:
        this.write(`{"$numberDecimal":${JSON.stringify(new Decimal128(buf.subarray(at, at + 16)).toString())}}`);
        return;
      case MIN_KEY:
        this.write('{"$minKey":1}');
        return;
      case MAX_KEY:
        this.write('{"$maxKey":1}');
        return;
      default:
        // walkDocument has already refused unknown types.
        this.write('null');
    }
  }

  /** UTF-8 text at [start, end), masked, then cut to what is left of the budget. */
  private text(start: number, end: number): void {
    this.string(shortText(this.buf, start, end));
  }

  private string(value: string): void {
    let text = this.options.maskText ? this.options.maskText(value) : value;
    // The whole string is masked before it is cut: a cut could otherwise split what a pattern would have matched.
    const room = Math.max(0, this.budget - 2);
    if (text.length > room) {
      let keep = room;
      const last = text.charCodeAt(keep - 1);
      if (keep > 0 && last >= 0xd800 && last <= 0xdbff) keep--; // never split a surrogate pair
      text = `${text.slice(0, keep)}…<${text.length - keep} more characters>`;
      this.elided = true;
    }
    this.write(jsonString(text));
  }

  private binary(at: number, end: number): void {
    const { buf } = this;
    const subtype = buf[at + 4];
    let dataStart = at + 5;
    // Subtype 2 (old binary) repeats the length inside; bson shows only what follows it.
    if (subtype === 2 && end - dataStart >= 4 && buf.readInt32LE(dataStart) === end - dataStart - 4) dataStart += 4;
    const size = end - dataStart;
    if (this.summarizeBinary && !(subtype === 4 && size === 16)) {
      this.write(`"<binary ${size} bytes>"`);
      return;
    }
    const hex = subtype.toString(16);
    this.write(`{"$binary":{"base64":"${buf.toString('base64', dataStart, end)}","subType":"${hex.length === 1 ? `0${hex}` : hex}"}}`);
  }
}

/** Decodes UTF-8 text; short ASCII text (most keys) without a native call. */
function shortText(buf: Buffer, start: number, end: number): string {
  if (end - start > 24) return buf.toString('utf8', start, end);
  let text = '';
  for (let i = start; i < end; i++) {
    const byte = buf[i];
    if (byte >= 0x80) return buf.toString('utf8', start, end);
    text += String.fromCharCode(byte);
  }
  return text;
}

/** Printable ASCII without `"` and `\`: JSON writes it as is. */
const PLAIN_JSON_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function jsonString(text: string): string {
  return text.length <= 64 && PLAIN_JSON_TEXT.test(text) ? `"${text}"` : JSON.stringify(text);
}

/** An int64 as a number when a double holds it exactly (within ±2^53), else as a bigint; no BigInt for the common case. */
function int64At(buf: Buffer, at: number): number | bigint {
  const high = buf.readInt32LE(at + 4);
  if (high >= -0x200000 && high <= 0x200000) {
    const value = high * 0x100000000 + buf.readUInt32LE(at);
    if (value <= MAX_EXACT_INTEGER && value >= -MAX_EXACT_INTEGER) return value;
  }
  return buf.readBigInt64LE(at);
}

function dateJson(ms: number | bigint): string {
  if (typeof ms === 'bigint' || ms < 0 || ms >= MAX_ISO_DATE_MS) return `{"$date":{"$numberLong":"${ms}"}}`;
  const iso = new Date(ms).toISOString();
  return `{"$date":"${ms % 1000 === 0 ? `${iso.slice(0, -5)}Z` : iso}"}`;
}
