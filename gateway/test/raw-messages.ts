import { buildDocument, encodeElement } from '../wire/bson-build';
import { HEADER_SIZE, OP_CODES } from '../wire/constants';

/*
 * Messages written element by element, in the order given, for tests that attack the gateway with what a decoded
 * JavaScript object cannot express: duplicate keys, integer-like keys before others, keys in any letter case.
 */

/** One element; `value` is encoded by bson (a number that fits is an int32, as drivers send `1`). */
export const element = encodeElement;

/** An OP_MSG with one body section made of `elements` (and optional raw kind-1 sections after it). */
export function rawOpMsg(elements: Buffer[], options: { requestId?: number; flags?: number; sections?: Buffer[] } = {}): Buffer {
  const body = buildDocument(elements);
  const sections = options.sections ?? [];
  const length = HEADER_SIZE + 4 + 1 + body.length + sections.reduce((n, s) => n + s.length, 0);
  const head = Buffer.alloc(HEADER_SIZE + 5);
  head.writeInt32LE(length, 0);
  head.writeInt32LE(options.requestId ?? 1, 4);
  head.writeInt32LE(OP_CODES.msg, 12);
  head.writeUInt32LE(options.flags ?? 0, HEADER_SIZE);
  head[HEADER_SIZE + 4] = 0;
  return Buffer.concat([head, body, ...sections]);
}

/** A kind-1 section (document sequence) with raw documents. */
export function rawSequence(identifier: string, documents: Buffer[]): Buffer {
  const id = Buffer.from(`${identifier}\0`, 'utf8');
  const size = 4 + id.length + documents.reduce((n, d) => n + d.length, 0);
  const head = Buffer.alloc(5);
  head[0] = 1;
  head.writeInt32LE(size, 1);
  return Buffer.concat([head, id, ...documents]);
}

/** An OP_QUERY on `namespace` (e.g. `admin.$cmd`) whose query document is made of `elements`. */
export function rawOpQuery(namespace: string, elements: Buffer[], options: { requestId?: number } = {}): Buffer {
  const query = buildDocument(elements);
  const ns = Buffer.from(`${namespace}\0`, 'utf8');
  const head = Buffer.alloc(HEADER_SIZE + 4);
  const tail = Buffer.alloc(8);
  tail.writeInt32LE(-1, 4); // numberToReturn
  const length = head.length + ns.length + tail.length + query.length;
  head.writeInt32LE(length, 0);
  head.writeInt32LE(options.requestId ?? 1, 4);
  head.writeInt32LE(OP_CODES.query, 12);
  return Buffer.concat([head, ns, tail, query]);
}

/** A document nested `depth` levels deep ({a: {a: ... {}}}), built without recursion. */
export function deeplyNested(depth: number): Buffer {
  // Each level adds 7 bytes before its child (int32 size, 0x03, "a", NUL) and 1 after (its final NUL, already 0).
  const levels = depth - 1;
  const out = Buffer.alloc(5 + levels * 8);
  let start = levels * 7;
  let size = 5;
  out.writeInt32LE(size, start);
  for (let i = 0; i < levels; i++) {
    start -= 7;
    size += 8;
    out.writeInt32LE(size, start);
    out[start + 4] = 0x03;
    out[start + 5] = 0x61;
  }
  return out;
}
