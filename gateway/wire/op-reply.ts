import type { Document } from 'bson';
import { encodeDocument, readDocument } from './bson-document';
import { HEADER_SIZE, MIN_BSON_DOCUMENT_SIZE, OP_CODES } from './constants';
import { WireProtocolError } from './errors';
import { type MessageHeader, readWholeMessageHeader, writeHeader } from './header';

/*
 * OP_REPLY (1), legacy; the answer to OP_QUERY:
 *   header 16 | int32 responseFlags | int64 cursorID | int32 startingFrom | int32 numberReturned | documents
 */

export interface OpReply {
  header: MessageHeader;
  responseFlags: number;
  cursorId: bigint;
  startingFrom: number;
  numberReturned: number;
  documents: Document[];
}

/** Offset of the first document. */
export const OP_REPLY_DOCUMENTS_OFFSET = HEADER_SIZE + 20;

export function parseOpReply(raw: Buffer): OpReply {
  const header = readWholeMessageHeader(raw, 'OP_REPLY');
  if (header.opCode !== OP_CODES.reply) throw new WireProtocolError(`OP_REPLY: opcode is ${header.opCode}, not ${OP_CODES.reply}`);
  if (raw.length < OP_REPLY_DOCUMENTS_OFFSET) throw new WireProtocolError('OP_REPLY: message ends inside the reply fields');
  const responseFlags = raw.readInt32LE(HEADER_SIZE);
  const cursorId = raw.readBigInt64LE(HEADER_SIZE + 4);
  const startingFrom = raw.readInt32LE(HEADER_SIZE + 12);
  const numberReturned = raw.readInt32LE(HEADER_SIZE + 16);
  const end = raw.length;
  // Bound the count by what the bytes can hold before looping on it.
  if (numberReturned < 0 || numberReturned > (end - OP_REPLY_DOCUMENTS_OFFSET) / MIN_BSON_DOCUMENT_SIZE) {
    throw new WireProtocolError(
      `OP_REPLY: numberReturned ${numberReturned} does not fit in ${end - OP_REPLY_DOCUMENTS_OFFSET} bytes of documents`,
    );
  }
  const documents: Document[] = [];
  let offset = OP_REPLY_DOCUMENTS_OFFSET;
  for (let i = 0; i < numberReturned; i++) {
    const read = readDocument(raw, offset, end, `OP_REPLY document ${i}`);
    documents.push(read.document);
    offset += read.size;
  }
  if (offset !== end) throw new WireProtocolError(`OP_REPLY: ${end - offset} bytes left after ${numberReturned} documents`);
  return { header, responseFlags, cursorId, startingFrom, numberReturned, documents };
}

export interface EncodeOpReplyOptions {
  requestId: number;
  responseTo: number;
  responseFlags?: number;
  cursorId?: bigint;
  startingFrom?: number;
  documents: Document[];
}

export function encodeOpReply(options: EncodeOpReplyOptions): Buffer {
  const documents = options.documents.map((d, i) => encodeDocument(d, `OP_REPLY document ${i}`));
  const length = OP_REPLY_DOCUMENTS_OFFSET + documents.reduce((n, d) => n + d.length, 0);
  const out = Buffer.allocUnsafe(length);
  let offset = writeHeader(out, {
    messageLength: length,
    requestId: options.requestId,
    responseTo: options.responseTo,
    opCode: OP_CODES.reply,
  });
  offset = out.writeInt32LE(options.responseFlags ?? 0, offset);
  offset = out.writeBigInt64LE(options.cursorId ?? 0n, offset);
  offset = out.writeInt32LE(options.startingFrom ?? 0, offset);
  offset = out.writeInt32LE(documents.length, offset);
  for (const d of documents) offset += d.copy(out, offset);
  return out;
}
