import type { Document } from 'bson';
import { encodeDocument, readCString, readDocument } from './bson-document';
import { HEADER_SIZE, OP_CODES } from './constants';
import { WireProtocolError } from './errors';
import { type MessageHeader, readWholeMessageHeader, writeHeader } from './header';

/*
 * OP_QUERY (2004), legacy; drivers still send their first hello/isMaster with it:
 *   header 16 | int32 flags | cstring fullCollectionName | int32 numberToSkip | int32 numberToReturn
 *   | document query | [document returnFieldsSelector]
 */

export interface OpQuery {
  header: MessageHeader;
  flags: number;
  fullCollectionName: string;
  numberToSkip: number;
  numberToReturn: number;
  query: Document;
  returnFieldsSelector?: Document;
}

/** Bit 0 is reserved; bits 8-31 are undefined. Either set means the sender is not speaking OP_QUERY as specified. */
const INVALID_FLAG_BITS = ~0xfe;

export function parseOpQuery(raw: Buffer): OpQuery {
  const header = readWholeMessageHeader(raw, 'OP_QUERY');
  if (header.opCode !== OP_CODES.query) throw new WireProtocolError(`OP_QUERY: opcode is ${header.opCode}, not ${OP_CODES.query}`);
  const end = raw.length;
  let offset = HEADER_SIZE;
  if (end - offset < 4) throw new WireProtocolError('OP_QUERY: message ends before the flags');
  const flags = raw.readInt32LE(offset);
  if (flags & INVALID_FLAG_BITS)
    throw new WireProtocolError(`OP_QUERY: reserved flag bits 0x${(flags & INVALID_FLAG_BITS).toString(16)} are set`);
  offset += 4;
  const name = readCString(raw, offset, end, 'OP_QUERY fullCollectionName');
  if (!name.value.includes('.') || name.value.startsWith('.')) {
    throw new WireProtocolError(`OP_QUERY: collection name "${name.value.slice(0, 200)}" is not of the form <db>.<collection>`);
  }
  offset = name.next;
  if (end - offset < 8) throw new WireProtocolError('OP_QUERY: message ends before numberToSkip/numberToReturn');
  const numberToSkip = raw.readInt32LE(offset);
  const numberToReturn = raw.readInt32LE(offset + 4);
  offset += 8;
  const query = readDocument(raw, offset, end, 'OP_QUERY query');
  offset += query.size;
  let returnFieldsSelector: Document | undefined;
  if (offset < end) {
    const selector = readDocument(raw, offset, end, 'OP_QUERY returnFieldsSelector');
    returnFieldsSelector = selector.document;
    offset += selector.size;
  }
  if (offset !== end) throw new WireProtocolError(`OP_QUERY: ${end - offset} unexpected bytes after the documents`);
  const parsed: OpQuery = { header, flags, fullCollectionName: name.value, numberToSkip, numberToReturn, query: query.document };
  if (returnFieldsSelector) parsed.returnFieldsSelector = returnFieldsSelector;
  return parsed;
}

export interface EncodeOpQueryOptions {
  requestId: number;
  responseTo?: number;
  flags?: number;
  fullCollectionName: string;
  numberToSkip?: number;
  numberToReturn?: number;
  query: Document;
  returnFieldsSelector?: Document;
}

export function encodeOpQuery(options: EncodeOpQueryOptions): Buffer {
  if (options.fullCollectionName.includes('\0'))
    throw new WireProtocolError('OP_QUERY: collection name contains a NUL character', 'BadValue');
  const name = Buffer.from(`${options.fullCollectionName}\0`, 'utf8');
  const query = encodeDocument(options.query, 'OP_QUERY query');
  const selector = options.returnFieldsSelector ? encodeDocument(options.returnFieldsSelector, 'OP_QUERY returnFieldsSelector') : undefined;
  const length = HEADER_SIZE + 4 + name.length + 8 + query.length + (selector?.length ?? 0);
  const out = Buffer.allocUnsafe(length);
  let offset = writeHeader(out, {
    messageLength: length,
    requestId: options.requestId,
    responseTo: options.responseTo ?? 0,
    opCode: OP_CODES.query,
  });
  offset = out.writeInt32LE(options.flags ?? 0, offset);
  offset += name.copy(out, offset);
  offset = out.writeInt32LE(options.numberToSkip ?? 0, offset);
  offset = out.writeInt32LE(options.numberToReturn ?? -1, offset);
  offset += query.copy(out, offset);
  if (selector) selector.copy(out, offset);
  return out;
}
