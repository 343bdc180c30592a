import { calculateObjectSize, type Document, deserialize, serialize, setInternalBufferSize } from 'bson';
import { MIN_BSON_DOCUMENT_SIZE } from './constants';
import { WireProtocolError } from './errors';

/**
 * Options for decoding documents the gateway may re-encode: int64 stays Long and regular expressions stay
 * BSONRegExp, so a decoded-then-encoded command keeps its types (a cursor id must stay an int64), and an
 * invalid pattern cannot throw from `new RegExp`.
 */
const DESERIALIZE_OPTIONS = Object.freeze({ promoteLongs: false, bsonRegExp: true });

/**
 * Returns the size of the BSON document at `offset` after checking that it fits before `end`,
 * is at least 5 bytes and ends with NUL. `what` names the place for the error message.
 */
export function checkDocumentBounds(buf: Buffer, offset: number, end: number, what: string): number {
  if (end - offset < 4) throw new WireProtocolError(`${what}: truncated before the document length`);
  const size = buf.readInt32LE(offset);
  if (size < MIN_BSON_DOCUMENT_SIZE) throw new WireProtocolError(`${what}: document length ${size} is smaller than 5 bytes`, 'InvalidBSON');
  if (size > end - offset) {
    throw new WireProtocolError(
      `${what}: document length ${size} runs past the end of its section (${end - offset} bytes left)`,
      'InvalidBSON',
    );
  }
  if (buf[offset + size - 1] !== 0) throw new WireProtocolError(`${what}: document does not end with a NUL byte`, 'InvalidBSON');
  return size;
}

/** Decodes one document at `offset` (bounds checked first); returns it and its size. Bad BSON becomes a WireProtocolError. */
export function readDocument(buf: Buffer, offset: number, end: number, what: string): { document: Document; size: number } {
  const size = checkDocumentBounds(buf, offset, end, what);
  try {
    return { document: deserialize(buf.subarray(offset, offset + size), DESERIALIZE_OPTIONS), size };
  } catch (error) {
    // bson throws BSONError for bad layout, RangeError for nesting deeper than the stack, TypeError on odd values.
    throw new WireProtocolError(`${what}: invalid BSON (${(error as Error).message})`, 'InvalidBSON', { cause: error });
  }
}

/** bson's default scratch buffer size. */
const SERIALIZE_BUFFER_SIZE = 17 * 1024 * 1024;

/** Encodes a document; values bson cannot encode become a WireProtocolError rather than a bare TypeError. */
export function encodeDocument(document: Document, what: string): Buffer {
  try {
    const size = calculateObjectSize(document);
    if (size > SERIALIZE_BUFFER_SIZE) {
      // bson serializes through a shared 17 MiB scratch buffer: grow it for this call only (serialize is synchronous).
      setInternalBufferSize(size);
      try {
        const bytes = serialize(document);
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } finally {
        setInternalBufferSize(SERIALIZE_BUFFER_SIZE);
      }
    }
    const bytes = serialize(document);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (error) {
    throw new WireProtocolError(`${what}: cannot encode the document as BSON (${(error as Error).message})`, 'BadValue', { cause: error });
  }
}

/** Reads a NUL-terminated UTF-8 string starting at `offset`, not past `end`. */
export function readCString(buf: Buffer, offset: number, end: number, what: string): { value: string; next: number } {
  const nul = buf.indexOf(0, offset);
  if (nul === -1 || nul >= end) throw new WireProtocolError(`${what}: string is not NUL-terminated`);
  return { value: buf.toString('utf8', offset, nul), next: nul + 1 };
}
