import { HEADER_SIZE } from './constants';
import { WireProtocolError } from './errors';

/** The 16-byte standard message header. All fields are little-endian int32. */
export interface MessageHeader {
  messageLength: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

/** Reads a header at `offset`. Checks only that 16 bytes are there; the framer and parsers check the length. */
export function readHeader(buf: Buffer, offset = 0): MessageHeader {
  if (offset < 0 || buf.length - offset < HEADER_SIZE) {
    throw new WireProtocolError(`message of ${Math.max(0, buf.length - offset)} bytes is shorter than a header (${HEADER_SIZE} bytes)`);
  }
  return {
    messageLength: buf.readInt32LE(offset),
    requestId: buf.readInt32LE(offset + 4),
    responseTo: buf.readInt32LE(offset + 8),
    opCode: buf.readInt32LE(offset + 12),
  };
}

/** Writes a header at `offset` (default 0) and returns the offset just after it. */
export function writeHeader(buf: Buffer, header: MessageHeader, offset = 0): number {
  buf.writeInt32LE(header.messageLength, offset);
  buf.writeInt32LE(header.requestId | 0, offset + 4);
  buf.writeInt32LE(header.responseTo | 0, offset + 8);
  buf.writeInt32LE(header.opCode, offset + 12);
  return offset + HEADER_SIZE;
}

/**
 * Reads the header of a whole raw message and checks that its declared length is the buffer's length.
 * Every opcode parser starts here.
 */
export function readWholeMessageHeader(raw: Buffer, opName: string): MessageHeader {
  const header = readHeader(raw);
  if (header.messageLength !== raw.length) {
    throw new WireProtocolError(`${opName}: header says ${header.messageLength} bytes but the message has ${raw.length}`);
  }
  return header;
}
