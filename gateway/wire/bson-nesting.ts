import { WireProtocolError } from './errors';
import { BSON_TYPES, type BsonElement, walkDocument } from './bson-walk';

/**
 * Deepest nesting of documents and arrays inside the document at `start` (the document itself is depth 1), found
 * without recursion, so a million-deep document costs a loop, not a stack overflow. Every nested document's frame
 * is checked on the way (see walkDocument). Stops as soon as `limit` is exceeded and returns limit + 1.
 */
export function nestingDepth(buf: Buffer, start: number, end: number, what: string, limit: number): number {
  let deepest = 1;
  // Pending embedded documents with their depth; each one is walked once, so the work is linear in the bytes.
  const starts: number[] = [start];
  const ends: number[] = [end];
  const depths: number[] = [1];
  while (starts.length > 0) {
    const docStart = starts.pop() as number;
    const docEnd = ends.pop() as number;
    const depth = depths.pop() as number;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return limit + 1;
    walkDocument(buf, docStart, docEnd, what, (element: BsonElement) => {
      const child = embeddedDocumentStart(buf, element);
      if (child === -1) return;
      starts.push(child);
      ends.push(element.valueEnd);
      depths.push(depth + 1);
    });
  }
  return deepest;
}

/** Where the document inside an element starts: documents and arrays, and the scope of code-with-scope. */
function embeddedDocumentStart(buf: Buffer, element: BsonElement): number {
  if (element.type === BSON_TYPES.document || element.type === BSON_TYPES.array) return element.valueStart;
  if (element.type === BSON_TYPES.javascriptWithScope) {
    // int32 total size, string (int32 length + bytes), then the scope document.
    const codeLength = element.valueEnd - element.valueStart >= 8 ? buf.readInt32LE(element.valueStart + 4) : -1;
    const scope = element.valueStart + 8 + codeLength;
    if (codeLength < 1 || scope + 5 > element.valueEnd) {
      throw new WireProtocolError('code with scope: the code string does not fit its element', 'InvalidBSON');
    }
    return scope;
  }
  return -1;
}
