import type { Document } from 'bson';
import { checkDocumentBounds, encodeDocument, readCString, readDocument } from './bson-document';
import { keyIs, walkDocument } from './bson-walk';
import { HEADER_SIZE, OP_CODES, OP_MSG_FLAGS } from './constants';
import { crc32c } from './crc32c';
import { WireProtocolError } from './errors';
import { type MessageHeader, readWholeMessageHeader, writeHeader } from './header';

/*
 * OP_MSG (2013):
 *   header            16 bytes
 *   flagBits          uint32
 *   sections          one kind-0 section: byte 0, BSON document (the command body)
 *                     any kind-1 sections: byte 1, int32 size (includes itself), cstring identifier, BSON documents
 *   checksum          optional uint32 CRC-32C of everything before it, present when flagBits bit 0 is set
 */

export interface DocumentSequence {
  identifier: string;
  documents: Document[];
}

export interface OpMsg {
  header: MessageHeader;
  flags: number;
  body: Document;
  sequences: DocumentSequence[];
  /** The checksum the message carried (already verified). */
  checksum?: number;
}

/** Bits 0-15 are required: a receiver must reject unknown ones. Only checksumPresent and moreToCome are defined. */
const REQUIRED_BITS_MASK = 0xffff;
const KNOWN_REQUIRED_BITS = OP_MSG_FLAGS.checksumPresent | OP_MSG_FLAGS.moreToCome;
const FLAGS_SIZE = 4;
const CHECKSUM_SIZE = 4;

export interface ParseOpMsgOptions {
  /** Reject a body without `$db` (client requests must carry one; server replies do not). Default false. */
  requireDb?: boolean;
}

export function parseOpMsg(raw: Buffer, options: ParseOpMsgOptions = {}): OpMsg {
  const header = readWholeMessageHeader(raw, 'OP_MSG');
  if (header.opCode !== OP_CODES.msg) throw new WireProtocolError(`OP_MSG: opcode is ${header.opCode}, not ${OP_CODES.msg}`);
  if (raw.length < HEADER_SIZE + FLAGS_SIZE) throw new WireProtocolError('OP_MSG: message ends before the flag bits');
  const flags = raw.readUInt32LE(HEADER_SIZE);
  const unknownRequired = flags & REQUIRED_BITS_MASK & ~KNOWN_REQUIRED_BITS;
  if (unknownRequired !== 0) {
    throw new WireProtocolError(`OP_MSG: unknown required flag bits 0x${unknownRequired.toString(16)} are set`);
  }

  let end = raw.length;
  let checksum: number | undefined;
  if (flags & OP_MSG_FLAGS.checksumPresent) {
    if (end - (HEADER_SIZE + FLAGS_SIZE) < CHECKSUM_SIZE)
      throw new WireProtocolError('OP_MSG: checksum flag is set but the 4 checksum bytes are missing');
    end -= CHECKSUM_SIZE;
    checksum = raw.readUInt32LE(end);
    const actual = crc32c(raw, 0, end);
    if (actual !== checksum) {
      throw new WireProtocolError(
        `OP_MSG: checksum mismatch (message says 0x${checksum.toString(16)}, contents give 0x${actual.toString(16)})`,
      );
    }
  }

  let body: Document | undefined;
  let bodyStart = 0;
  const sequences: DocumentSequence[] = [];
  let offset = HEADER_SIZE + FLAGS_SIZE;
  while (offset < end) {
    const kind = raw[offset];
    offset += 1;
    if (kind === 0) {
      if (body !== undefined) throw new WireProtocolError('OP_MSG: more than one body section (kind 0)');
      const read = readDocument(raw, offset, end, 'OP_MSG body section');
      body = read.document;
      bodyStart = offset;
      offset += read.size;
    } else if (kind === 1) {
      const sequence = readSequence(raw, offset, end);
      if (sequences.some((s) => s.identifier === sequence.sequence.identifier)) {
        throw new WireProtocolError(`OP_MSG: document sequence "${sequence.sequence.identifier}" appears twice`);
      }
      sequences.push(sequence.sequence);
      offset += sequence.size;
    } else {
      throw new WireProtocolError(`OP_MSG: unknown section kind ${kind}`);
    }
  }
  if (body === undefined) throw new WireProtocolError('OP_MSG: body section missing');
  checkDb(body, options.requireDb === true);
  if (Object.hasOwn(body, '$db') && countKey(raw, bodyStart, '$db') > 1) throw new WireProtocolError('OP_MSG: $db appears more than once');
  for (const sequence of sequences) {
    if (Object.hasOwn(body, sequence.identifier)) {
      throw new WireProtocolError(`OP_MSG: field "${sequence.identifier}" is in both the body and a document sequence`);
    }
  }
  return checksum === undefined ? { header, flags, body, sequences } : { header, flags, body, sequences, checksum };
}

function readSequence(raw: Buffer, start: number, end: number): { sequence: DocumentSequence; size: number } {
  if (end - start < 4) throw new WireProtocolError('OP_MSG: document sequence truncated before its size');
  const size = raw.readInt32LE(start);
  if (size < 5) throw new WireProtocolError(`OP_MSG: document sequence size ${size} is too small`);
  if (size > end - start)
    throw new WireProtocolError(`OP_MSG: document sequence size ${size} runs past the end of the message (${end - start} bytes left)`);
  const sequenceEnd = start + size;
  const id = readCString(raw, start + 4, sequenceEnd, 'OP_MSG document sequence identifier');
  if (id.value.length === 0) throw new WireProtocolError('OP_MSG: document sequence identifier is empty');
  const documents: Document[] = [];
  let offset = id.next;
  while (offset < sequenceEnd) {
    const read = readDocument(raw, offset, sequenceEnd, `OP_MSG document sequence "${id.value}"`);
    documents.push(read.document);
    offset += read.size;
  }
  return { sequence: { identifier: id.value, documents }, size };
}

/** Decoding keeps only the last of duplicate keys, so duplicates are counted in the bytes. */
function countKey(raw: Buffer, start: number, key: string): number {
  let count = 0;
  walkDocument(raw, start, raw.length, 'OP_MSG body section', (element) => {
    if (keyIs(raw, element, key)) count++;
  });
  return count;
}

/** `$db` must be a single non-empty string. */
function checkDb(body: Document, required: boolean): void {
  if (!Object.hasOwn(body, '$db')) {
    if (required) throw new WireProtocolError('OP_MSG: command has no $db field');
    return;
  }
  const db = body.$db;
  if (typeof db !== 'string') throw new WireProtocolError('OP_MSG: $db must be a string');
  if (db.length === 0) throw new WireProtocolError('OP_MSG: $db is empty');
  if (db.includes('\0')) throw new WireProtocolError('OP_MSG: $db contains a NUL character');
}

export interface EncodeOpMsgOptions {
  requestId: number;
  responseTo?: number;
  /** checksumPresent here makes the encoder append a fresh CRC-32C. */
  flags?: number;
  body: Document;
  sequences?: DocumentSequence[];
}

export function encodeOpMsg(options: EncodeOpMsgOptions): Buffer {
  const flags = (options.flags ?? 0) >>> 0;
  const bodyBytes = encodeDocument(options.body, 'OP_MSG body');
  const sequenceParts: { identifier: Buffer; documents: Buffer[]; size: number }[] = [];
  let length = HEADER_SIZE + FLAGS_SIZE + 1 + bodyBytes.length;
  for (const sequence of options.sequences ?? []) {
    if (sequence.identifier.length === 0 || sequence.identifier.includes('\0')) {
      throw new WireProtocolError('OP_MSG: a document sequence identifier must be a non-empty string without NUL', 'BadValue');
    }
    const identifier = Buffer.from(`${sequence.identifier}\0`, 'utf8');
    const documents = sequence.documents.map((d) => encodeDocument(d, `OP_MSG document sequence "${sequence.identifier}"`));
    const size = 4 + identifier.length + documents.reduce((n, d) => n + d.length, 0);
    sequenceParts.push({ identifier, documents, size });
    length += 1 + size;
  }
  const withChecksum = (flags & OP_MSG_FLAGS.checksumPresent) !== 0;
  if (withChecksum) length += CHECKSUM_SIZE;

  const out = Buffer.allocUnsafe(length);
  let offset = writeHeader(out, {
    messageLength: length,
    requestId: options.requestId,
    responseTo: options.responseTo ?? 0,
    opCode: OP_CODES.msg,
  });
  offset = out.writeUInt32LE(flags, offset);
  out[offset++] = 0;
  offset += bodyBytes.copy(out, offset);
  for (const part of sequenceParts) {
    out[offset++] = 1;
    offset = out.writeInt32LE(part.size, offset);
    offset += part.identifier.copy(out, offset);
    for (const d of part.documents) offset += d.copy(out, offset);
  }
  if (withChecksum) out.writeUInt32LE(crc32c(out, 0, offset), offset);
  return out;
}

/** Byte offset of the OP_MSG flag bits, for readers that do not parse the whole message. */
export const OP_MSG_FLAGS_OFFSET = HEADER_SIZE;

/** Checks only the layout of the first kind-0 section and returns where its document starts, or -1. */
export function findOpMsgBody(raw: Buffer): { start: number; size: number } | -1 {
  if (raw.length < HEADER_SIZE + FLAGS_SIZE + 1) return -1;
  const flags = raw.readUInt32LE(HEADER_SIZE);
  const end = flags & OP_MSG_FLAGS.checksumPresent ? raw.length - CHECKSUM_SIZE : raw.length;
  let offset = HEADER_SIZE + FLAGS_SIZE;
  while (offset < end) {
    const kind = raw[offset++];
    if (kind === 0) return { start: offset, size: checkDocumentBounds(raw, offset, end, 'OP_MSG body section') };
    if (kind !== 1 || end - offset < 4) return -1;
    const size = raw.readInt32LE(offset);
    if (size < 5 || size > end - offset) return -1;
    offset += size;
  }
  return -1;
}
