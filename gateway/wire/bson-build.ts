import { type Document, serialize } from 'bson';
import type { BsonElement } from './bson-walk';
import { HEADER_SIZE } from './constants';

/*
 * Builds documents and messages from the bytes of others, so a rewrite keeps every element the client or the
 * server sent exactly as it was (order, types, duplicate or integer-like keys), and changes only what it means to.
 */

/** The whole element (type byte, key, value) as it is in `buf`. */
export function elementBytes(buf: Buffer, element: BsonElement): Buffer {
  return buf.subarray(element.keyStart - 1, element.valueEnd);
}

/** One element encoded from a JavaScript value (for the few fields the gateway adds itself). */
export function encodeElement(key: string, value: unknown): Buffer {
  const document = serialize({ [key]: value } as Document);
  return Buffer.from(document.buffer, document.byteOffset + 4, document.length - 5);
}

/** A document made of these elements, in this order. */
export function buildDocument(elements: readonly Buffer[]): Buffer {
  let size = 5;
  for (const element of elements) size += element.length;
  const out = Buffer.allocUnsafe(size);
  out.writeInt32LE(size, 0);
  let offset = 4;
  for (const element of elements) offset += element.copy(out, offset);
  out[offset] = 0;
  return out;
}

/** An element with `element`'s type and key and a new value (of the same type's layout, e.g. a document). */
export function withValue(buf: Buffer, element: BsonElement, value: Buffer): Buffer {
  return Buffer.concat([buf.subarray(element.keyStart - 1, element.valueStart), value]);
}

export interface SpliceOptions {
  /** New value for the 4 bytes after the header (OP_MSG flag bits). */
  flags?: number;
  /** Bytes dropped from the end of the message (an OP_MSG checksum that would no longer match). */
  dropTail?: number;
}

/** The message with bytes [start, end) replaced by `replacement`, its header length updated. */
export function spliceMessage(raw: Buffer, start: number, end: number, replacement: Buffer, options: SpliceOptions = {}): Buffer {
  const tailEnd = raw.length - (options.dropTail ?? 0);
  const out = Buffer.concat([raw.subarray(0, start), replacement, raw.subarray(end, tailEnd)]);
  out.writeInt32LE(out.length, 0);
  if (options.flags !== undefined) out.writeUInt32LE(options.flags >>> 0, HEADER_SIZE);
  return out;
}
