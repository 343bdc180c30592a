import { buildDocument, elementBytes, spliceMessage, withValue } from '../wire/bson-build';
import { BSON_TYPES, type BsonElement, keyIs, numberValue, stringValue, walkDocument } from '../wire/bson-walk';
import { HEADER_SIZE, OP_CODES, OP_MSG_FLAGS, OP_REPLY_FLAGS } from '../wire/constants';
import { findOpMsgBody } from '../wire/op-msg';
import { OP_REPLY_DOCUMENTS_OFFSET } from '../wire/op-reply';

/*
 * listDatabases replies of an account with a database list name only the databases it may use. The reply is
 * rewritten from its bytes: the `databases` array keeps the allowed entries (each copied as the server sent it,
 * renumbered "0", "1", ...), `totalSize` and `totalSizeMb` become the sums over the kept entries (an account must
 * not learn the size of the others), every other field is copied as it is. OP_MSG replies and OP_REPLY (the answer
 * to an OP_QUERY listDatabases on admin.$cmd, which readCommand accepts like any command) are both handled.
 */

const MIB = 1024 * 1024;

/**
 * The reply with only the allowed databases listed. Returned unchanged (the same Buffer) when it is an error
 * (`ok` not 1), not a listDatabases reply (no `databases` array), not an OP_MSG or OP_REPLY, or when every listed
 * database is allowed. An OP_MSG checksum is dropped (with its flag), since it would no longer match. Entries that
 * cannot be read (not a document, no string `name`) are left out: the filter fails closed. Malformed BSON throws a
 * WireProtocolError (a reply the gateway cannot read is not forwarded).
 */
export function filterListDatabasesReply(reply: Buffer, allows: (name: string) => boolean): Buffer {
  if (reply.length < HEADER_SIZE) return reply;
  const opCode = reply.readInt32LE(12);
  if (opCode === OP_CODES.msg) return filterOpMsg(reply, allows);
  if (opCode === OP_CODES.reply) return filterOpReply(reply, allows);
  return reply;
}

function filterOpMsg(reply: Buffer, allows: (name: string) => boolean): Buffer {
  const found = findOpMsgBody(reply);
  if (found === -1) return reply;
  const body = filterBody(reply, found.start, found.start + found.size, allows);
  if (body === undefined) return reply;
  const flags = reply.readUInt32LE(HEADER_SIZE);
  if ((flags & OP_MSG_FLAGS.checksumPresent) === 0) return spliceMessage(reply, found.start, found.start + found.size, body);
  return spliceMessage(reply, found.start, found.start + found.size, body, { flags: flags & ~OP_MSG_FLAGS.checksumPresent, dropTail: 4 });
}

function filterOpReply(reply: Buffer, allows: (name: string) => boolean): Buffer {
  if (reply.length < OP_REPLY_DOCUMENTS_OFFSET + 5) return reply;
  const responseFlags = reply.readInt32LE(HEADER_SIZE);
  const numberReturned = reply.readInt32LE(HEADER_SIZE + 16);
  if (responseFlags & OP_REPLY_FLAGS.queryFailure || numberReturned !== 1) return reply;
  const start = OP_REPLY_DOCUMENTS_OFFSET;
  const documentEnd = start + reply.readInt32LE(start);
  if (documentEnd !== reply.length) return reply;
  const body = filterBody(reply, start, documentEnd, allows);
  if (body === undefined) return reply;
  return spliceMessage(reply, start, documentEnd, body);
}

/** The filtered reply document, or undefined when it is not a successful listDatabases reply or nothing is removed. */
function filterBody(raw: Buffer, start: number, end: number, allows: (name: string) => boolean): Buffer | undefined {
  const fields: BsonElement[] = [];
  walkDocument(raw, start, end, 'listDatabases reply', (element) => {
    fields.push(element);
  });
  const ok = fields.filter((f) => keyIs(raw, f, 'ok'));
  if (ok.length !== 1 || numberValue(raw, ok[0]) !== 1) return undefined;
  const lists = fields.filter((f) => keyIs(raw, f, 'databases'));
  if (lists.length === 0 || lists.some((f) => f.type !== BSON_TYPES.array)) return undefined;

  let removed = false;
  let keptSize = 0;
  const arrays = new Map<BsonElement, Buffer>();
  for (const list of lists) {
    const kept: BsonElement[] = [];
    walkDocument(raw, list.valueStart, list.valueEnd, 'listDatabases databases', (entry) => {
      const size = allowedEntrySize(raw, entry, allows);
      if (size === undefined) removed = true;
      else {
        kept.push(entry);
        keptSize += size;
      }
    });
    arrays.set(list, buildDocument(kept.map((entry, i) => renumbered(raw, entry, i))));
  }
  if (!removed) return undefined;

  const out: Buffer[] = [];
  for (const field of fields) {
    const array = arrays.get(field);
    if (array !== undefined) out.push(withValue(raw, field, array));
    else if (keyIs(raw, field, 'totalSize')) pushNumber(out, raw, field, keptSize);
    else if (keyIs(raw, field, 'totalSizeMb')) pushNumber(out, raw, field, Math.floor(keptSize / MIB));
    else out.push(elementBytes(raw, field));
  }
  return buildDocument(out);
}

/** The entry's sizeOnDisk (0 when it has none, as in nameOnly replies) when it names an allowed database; else undefined. */
function allowedEntrySize(raw: Buffer, entry: BsonElement, allows: (name: string) => boolean): number | undefined {
  if (entry.type !== BSON_TYPES.document) return undefined;
  let names = 0;
  let allowed = true;
  let size = 0;
  walkDocument(raw, entry.valueStart, entry.valueEnd, 'listDatabases entry', (field) => {
    if (keyIs(raw, field, 'name')) {
      names++;
      const name = stringValue(raw, field);
      if (name === undefined || !allows(name)) allowed = false;
    } else if (keyIs(raw, field, 'sizeOnDisk')) {
      const value = numberValue(raw, field);
      if (value !== undefined && Number.isFinite(value)) size += value;
    }
  });
  return names > 0 && allowed ? size : undefined;
}

/** The array entry `entry` as element number `index`: its type and value as sent, its key the new index. */
function renumbered(raw: Buffer, entry: BsonElement, index: number): Buffer {
  const key = Buffer.from(`${index}\0`, 'latin1');
  return Buffer.concat([Buffer.from([entry.type]), key, raw.subarray(entry.valueStart, entry.valueEnd)]);
}

/**
 * `field` with a new numeric value, in its own BSON type where it fits (an int32 that overflows becomes an int64).
 * A total of another type (none a server sends) is left out rather than left telling the size of every database.
 */
function pushNumber(out: Buffer[], raw: Buffer, field: BsonElement, value: number): void {
  const key = raw.subarray(field.keyStart, field.keyEnd + 1);
  let type = field.type;
  let bytes: Buffer;
  if (type === BSON_TYPES.int32 && value <= 0x7fffffff) {
    bytes = Buffer.alloc(4);
    bytes.writeInt32LE(value);
  } else if (type === BSON_TYPES.int32 || type === BSON_TYPES.int64) {
    type = BSON_TYPES.int64;
    bytes = Buffer.alloc(8);
    bytes.writeBigInt64LE(BigInt(Math.round(value)));
  } else if (type === BSON_TYPES.double) {
    bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(value);
  } else {
    return;
  }
  out.push(Buffer.concat([Buffer.from([type]), key, bytes]));
}
