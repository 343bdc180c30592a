import { WireProtocolError } from './errors';

/**
 * A small reader over the top-level elements of a BSON document, without decoding it.
 * Used where decoding would cost too much (48 MB replies on the hot path) or hide detail (duplicate keys).
 */

export const BSON_TYPES = Object.freeze({
  double: 0x01,
  string: 0x02,
  document: 0x03,
  array: 0x04,
  binary: 0x05,
  undefined: 0x06,
  objectId: 0x07,
  boolean: 0x08,
  date: 0x09,
  null: 0x0a,
  regex: 0x0b,
  dbPointer: 0x0c,
  javascript: 0x0d,
  symbol: 0x0e,
  javascriptWithScope: 0x0f,
  int32: 0x10,
  timestamp: 0x11,
  int64: 0x12,
  decimal128: 0x13,
  minKey: 0xff,
  maxKey: 0x7f,
} as const);

export interface BsonElement {
  type: number;
  /** Key bytes: [keyStart, keyEnd). */
  keyStart: number;
  keyEnd: number;
  /** Value bytes: [valueStart, valueEnd). */
  valueStart: number;
  valueEnd: number;
}

function fail(what: string, message: string): never {
  throw new WireProtocolError(`${what}: ${message}`, 'InvalidBSON');
}

/** Checks the document frame at `start` (length, bounds, final NUL) and returns the offset just past it. */
export function documentEnd(buf: Buffer, start: number, limit: number, what: string): number {
  if (limit - start < 5) fail(what, 'document truncated');
  const size = buf.readInt32LE(start);
  if (size < 5 || size > limit - start) fail(what, `document length ${size} does not fit (${limit - start} bytes available)`);
  const end = start + size;
  if (buf[end - 1] !== 0) fail(what, 'document does not end with a NUL byte');
  return end;
}

/**
 * Calls `visit` for each top-level element of the document at `start`; stops early when it returns false.
 * Each step is bounded by the document's own length, so a malformed document ends in a WireProtocolError, never a loop.
 */
export function walkDocument(buf: Buffer, start: number, limit: number, what: string, visit: (element: BsonElement) => unknown): void {
  const end = documentEnd(buf, start, limit, what) - 1; // position of the final NUL
  let offset = start + 4;
  while (offset < end) {
    const type = buf[offset];
    const keyStart = offset + 1;
    const keyEnd = findNul(buf, keyStart, end);
    if (keyEnd === -1) fail(what, 'element key is not NUL-terminated');
    const valueStart = keyEnd + 1;
    const valueEnd = valueStart + valueSize(buf, type, valueStart, end, what);
    if (valueEnd > end) fail(what, 'element value runs past the end of its document');
    if (visit({ type, keyStart, keyEnd, valueStart, valueEnd }) === false) return;
    offset = valueEnd;
  }
  if (offset !== end) fail(what, 'elements overrun the document');
}

/** Number of top-level elements of the document at `start`, skipping each by its size without building anything. */
export function countDocumentElements(buf: Buffer, start: number, limit: number, what: string): number {
  const end = documentEnd(buf, start, limit, what) - 1;
  let offset = start + 4;
  let count = 0;
  while (offset < end) {
    const type = buf[offset];
    const keyEnd = findNul(buf, offset + 1, end);
    if (keyEnd === -1) fail(what, 'element key is not NUL-terminated');
    offset = keyEnd + 1 + valueSize(buf, type, keyEnd + 1, end, what);
    if (offset > end) fail(what, 'element value runs past the end of its document');
    count++;
  }
  return count;
}

/** Index of the first NUL in [from, end), or -1. Keys are short: a plain loop beats a native call for them. */
function findNul(buf: Buffer, from: number, end: number): number {
  const stop = Math.min(end, from + 32);
  for (let i = from; i < stop; i++) if (buf[i] === 0) return i;
  if (stop === end) return -1;
  const nul = buf.indexOf(0, stop);
  return nul === -1 || nul >= end ? -1 : nul;
}

function int32At(buf: Buffer, at: number, end: number, what: string): number {
  if (end - at < 4) fail(what, 'value truncated');
  return buf.readInt32LE(at);
}

function valueSize(buf: Buffer, type: number, at: number, end: number, what: string): number {
  switch (type) {
    case BSON_TYPES.undefined:
    case BSON_TYPES.null:
    case BSON_TYPES.minKey:
    case BSON_TYPES.maxKey:
      return 0;
    case BSON_TYPES.boolean:
      return 1;
    case BSON_TYPES.int32:
      return 4;
    case BSON_TYPES.double:
    case BSON_TYPES.date:
    case BSON_TYPES.timestamp:
    case BSON_TYPES.int64:
      return 8;
    case BSON_TYPES.objectId:
      return 12;
    case BSON_TYPES.decimal128:
      return 16;
    case BSON_TYPES.string:
    case BSON_TYPES.javascript:
    case BSON_TYPES.symbol: {
      const n = int32At(buf, at, end, what);
      if (n < 1) fail(what, `string length ${n} is invalid`);
      return 4 + n;
    }
    case BSON_TYPES.document:
    case BSON_TYPES.array:
    case BSON_TYPES.javascriptWithScope: {
      const n = int32At(buf, at, end, what);
      if (n < 5) fail(what, `embedded length ${n} is invalid`);
      return n;
    }
    case BSON_TYPES.binary: {
      const n = int32At(buf, at, end, what);
      if (n < 0) fail(what, `binary length ${n} is invalid`);
      return 5 + n;
    }
    case BSON_TYPES.regex: {
      const a = findNul(buf, at, end);
      if (a === -1) fail(what, 'regex pattern is not NUL-terminated');
      const b = findNul(buf, a + 1, end);
      if (b === -1) fail(what, 'regex options are not NUL-terminated');
      return b + 1 - at;
    }
    case BSON_TYPES.dbPointer: {
      const n = int32At(buf, at, end, what);
      if (n < 1) fail(what, `string length ${n} is invalid`);
      return 4 + n + 12;
    }
    default:
      return fail(what, `unknown element type 0x${type.toString(16)}`);
  }
}

/** True when the element's key equals `key` (ASCII keys only; compares bytes, allocates nothing). */
export function keyIs(buf: Buffer, element: BsonElement, key: string): boolean {
  if (element.keyEnd - element.keyStart !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (buf[element.keyStart + i] !== key.charCodeAt(i)) return false;
  return true;
}

export function keyOf(buf: Buffer, element: BsonElement): string {
  return buf.toString('utf8', element.keyStart, element.keyEnd);
}

/** Numeric value of a double, int32, int64 or boolean element; undefined for other types. */
export function numberValue(buf: Buffer, element: BsonElement): number | undefined {
  switch (element.type) {
    case BSON_TYPES.double:
      return buf.readDoubleLE(element.valueStart);
    case BSON_TYPES.int32:
      return buf.readInt32LE(element.valueStart);
    case BSON_TYPES.int64:
      return Number(buf.readBigInt64LE(element.valueStart));
    case BSON_TYPES.boolean:
      return buf[element.valueStart] === 0 ? 0 : 1;
    default:
      return undefined;
  }
}

/** String value of a string element (at most `maxBytes` of it); undefined for other types. */
export function stringValue(buf: Buffer, element: BsonElement, maxBytes = Number.POSITIVE_INFINITY): string | undefined {
  if (element.type !== BSON_TYPES.string) return undefined;
  const start = element.valueStart + 4;
  const end = Math.min(element.valueEnd - 1, start + maxBytes);
  return buf.toString('utf8', start, end);
}

/** Number of elements in an embedded document or array element, skipping each by its size. */
export function countElements(buf: Buffer, element: BsonElement, what: string): number {
  return countDocumentElements(buf, element.valueStart, element.valueEnd, what);
}
