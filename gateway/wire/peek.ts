import { HEADER_SIZE } from './constants';
import { WireProtocolError } from './errors';

/*
 * Field readers for messages the gateway relays unchanged: they read one field of a framed message
 * without parsing it.
 */

function need(raw: Buffer, bytes: number, field: string): void {
  if (raw.length < bytes) throw new WireProtocolError(`message of ${raw.length} bytes is too short to hold its ${field}`);
}

export function peekRequestId(raw: Buffer): number {
  need(raw, HEADER_SIZE, 'header');
  return raw.readInt32LE(4);
}

export function peekResponseTo(raw: Buffer): number {
  need(raw, HEADER_SIZE, 'header');
  return raw.readInt32LE(8);
}

export function peekOpCode(raw: Buffer): number {
  need(raw, HEADER_SIZE, 'header');
  return raw.readInt32LE(12);
}

/** OP_MSG flagBits (uint32) or OP_REPLY/OP_QUERY flags: the 4 bytes after the header. */
export function peekFlags(raw: Buffer): number {
  need(raw, HEADER_SIZE + 4, 'flags');
  return raw.readUInt32LE(HEADER_SIZE);
}
