import type { Document } from 'bson';
import { buildDocument, encodeElement } from '../wire/bson-build';
import { type CommandIdentity, CommandRefused, readCommand } from '../wire/command-identity';
import { HEADER_SIZE } from '../wire/constants';
import { encodeOpMsg } from '../wire/op-msg';

/*
 * Test helpers for the recording tests: client requests built from documents or byte by byte, and their identity
 * read as the gateway reads it. Not a test file itself.
 */

export { buildDocument, encodeElement };

export interface TestSequence {
  identifier: string;
  documents: Document[];
}

/** An OP_MSG request with this body (a document, or the exact bytes of one). */
export function opMsg(body: Document | Buffer, options: { requestId?: number; flags?: number; sequences?: TestSequence[] } = {}): Buffer {
  if (!Buffer.isBuffer(body))
    return encodeOpMsg({ requestId: options.requestId ?? 1, flags: options.flags, body, sequences: options.sequences });
  // encodeOpMsg serializes a document; the bytes given here must stay as they are (duplicate or integer-like keys).
  const placeholder = encodeOpMsg({
    requestId: options.requestId ?? 1,
    flags: options.flags,
    body: { x: 1 },
    sequences: options.sequences,
  });
  const placeholderSize = placeholder.readInt32LE(HEADER_SIZE + 5);
  const out = Buffer.concat([placeholder.subarray(0, HEADER_SIZE + 5), body, placeholder.subarray(HEADER_SIZE + 5 + placeholderSize)]);
  out.writeInt32LE(out.length, 0);
  return out;
}

/** The identity readCommand gives, also for a command the gateway refuses (it is logged all the same). */
export function identify(raw: Buffer): CommandIdentity {
  try {
    return readCommand(raw);
  } catch (error) {
    if (error instanceof CommandRefused) return error.identity;
    throw error;
  }
}

/** One element with a raw value, for the types bson does not write from JavaScript (undefined, DBPointer, ...). */
export function rawElement(type: number, key: string, value: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([type]), Buffer.from(`${key}\0`, 'utf8'), value]);
}

/** A BSON string value (int32 length, bytes, NUL) from raw bytes, which need not be valid UTF-8. */
export function rawString(bytes: Buffer): Buffer {
  const out = Buffer.alloc(4 + bytes.length + 1);
  out.writeInt32LE(bytes.length + 1, 0);
  bytes.copy(out, 4);
  return out;
}

/** A command body built element by element: `$db` is added last. */
export function commandBytes(elements: Buffer[], database = 'app'): Buffer {
  return buildDocument([...elements, encodeElement('$db', database)]);
}
