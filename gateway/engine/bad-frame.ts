import type { RequestRef } from '../wire/error-reply';

const HEADER_SIZE = 16;

/**
 * After the framer refused a chunk (bad or oversized length), finds the offending message's header in it by
 * walking the lengths the way the framer did, so the error can be answered in the request's own format.
 * Returns undefined when the header is not wholly in the chunk.
 */
export function locateBadFrame(chunk: Buffer, maxMessageSize: number): RequestRef | undefined {
  let offset = 0;
  while (chunk.length - offset >= 4) {
    const length = chunk.readInt32LE(offset);
    if (length < HEADER_SIZE || length > maxMessageSize) {
      if (chunk.length - offset < HEADER_SIZE) return undefined;
      return { requestId: chunk.readInt32LE(offset + 4), opCode: chunk.readInt32LE(offset + 12) };
    }
    offset += length;
  }
  return undefined;
}
