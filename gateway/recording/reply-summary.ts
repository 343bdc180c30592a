import { BSON_TYPES, type BsonElement, countElements, keyIs, numberValue, stringValue, walkDocument } from '../wire/bson-walk';
import { DEFAULT_MAX_MESSAGE_SIZE, HEADER_SIZE, OP_CODES, OP_MSG_FLAGS, OP_REPLY_FLAGS } from '../wire/constants';
import { WireProtocolError } from '../wire/errors';
import { readHeader } from '../wire/header';
import { decompressMessage } from '../wire/op-compressed';
import { findOpMsgBody } from '../wire/op-msg';
import { OP_REPLY_DOCUMENTS_OFFSET } from '../wire/op-reply';

export interface ReplySummary {
  ok: boolean;
  documents?: number;
  affected?: number;
  errorCode?: number;
  errorName?: string;
  errorMessage?: string;
  cursorId?: bigint;
}

/** Error messages from the server are cut to this many bytes: enough to read, bounded for the log. */
const MAX_ERROR_MESSAGE_BYTES = 512;

/**
 * Summarizes a raw server reply (OP_MSG or OP_REPLY) for the session log by walking the BSON bytes of its
 * top-level document: replies can be 48 MB and this runs on every one, so nothing is decoded except a few
 * small fields, and batch elements are counted by skipping each by its length prefix.
 * Throws WireProtocolError when the reply cannot be read.
 */
export function summarizeReply(reply: Buffer, maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE): ReplySummary {
  const header = readHeader(reply);
  if (header.messageLength !== reply.length)
    throw new WireProtocolError(`reply: header says ${header.messageLength} bytes but the message has ${reply.length}`);
  switch (header.opCode) {
    case OP_CODES.msg: {
      const body = findOpMsgBody(reply);
      if (body === -1) throw new WireProtocolError('reply: OP_MSG body section missing');
      return summarizeCommandReply(reply, body.start, body.start + body.size);
    }
    case OP_CODES.reply:
      return summarizeOpReply(reply);
    case OP_CODES.compressed:
      return summarizeReply(decompressMessage(reply, maxMessageSize), maxMessageSize);
    default:
      throw new WireProtocolError(`reply: opcode ${header.opCode} is not a reply`);
  }
}

function summarizeOpReply(reply: Buffer): ReplySummary {
  if (reply.length < OP_REPLY_DOCUMENTS_OFFSET) throw new WireProtocolError('reply: OP_REPLY ends inside the reply fields');
  const flags = reply.readInt32LE(HEADER_SIZE);
  const cursorId = reply.readBigInt64LE(HEADER_SIZE + 4);
  const numberReturned = reply.readInt32LE(HEADER_SIZE + 16);
  const hasDocument = numberReturned > 0 && reply.length > OP_REPLY_DOCUMENTS_OFFSET;
  if (flags & OP_REPLY_FLAGS.queryFailure) {
    const summary: ReplySummary = { ok: false };
    if (hasDocument) {
      const fields = readErrorFields(reply, OP_REPLY_DOCUMENTS_OFFSET, reply.length, '$err');
      Object.assign(summary, fields);
    }
    return summary;
  }
  // A command sent with OP_QUERY (the legacy hello) is answered with one document carrying `ok`.
  if (numberReturned === 1 && hasDocument && hasOkField(reply, OP_REPLY_DOCUMENTS_OFFSET, reply.length)) {
    return summarizeCommandReply(reply, OP_REPLY_DOCUMENTS_OFFSET, reply.length);
  }
  return { ok: true, documents: Math.max(0, numberReturned), cursorId };
}

function hasOkField(buf: Buffer, start: number, limit: number): boolean {
  let found = false;
  walkDocument(buf, start, limit, 'reply document', (e) => {
    if (keyIs(buf, e, 'ok')) found = true;
    return !found;
  });
  return found;
}

function errorFields(buf: Buffer, code?: BsonElement, codeName?: BsonElement, message?: BsonElement): Partial<ReplySummary> {
  const out: Partial<ReplySummary> = {};
  const codeValue = code ? numberValue(buf, code) : undefined;
  if (codeValue !== undefined) out.errorCode = codeValue;
  const name = codeName ? stringValue(buf, codeName, 128) : undefined;
  if (name !== undefined) out.errorName = name;
  const text = message ? stringValue(buf, message, MAX_ERROR_MESSAGE_BYTES) : undefined;
  if (text !== undefined) out.errorMessage = text;
  return out;
}

/** code / codeName / errmsg (or `messageKey`) of an error document. */
function readErrorFields(buf: Buffer, start: number, limit: number, messageKey = 'errmsg'): Partial<ReplySummary> {
  let code: BsonElement | undefined;
  let codeName: BsonElement | undefined;
  let message: BsonElement | undefined;
  walkDocument(buf, start, limit, 'error document', (e) => {
    if (keyIs(buf, e, 'code')) code = e;
    else if (keyIs(buf, e, 'codeName')) codeName = e;
    else if (keyIs(buf, e, messageKey) || (!message && keyIs(buf, e, 'errmsg'))) message = e;
  });
  return errorFields(buf, code, codeName, message);
}

function isDocument(e: BsonElement): boolean {
  return e.type === BSON_TYPES.document || e.type === BSON_TYPES.array;
}

function summarizeCommandReply(buf: Buffer, start: number, limit: number): ReplySummary {
  let ok: number | undefined;
  let code: BsonElement | undefined;
  let codeName: BsonElement | undefined;
  let errmsg: BsonElement | undefined;
  let n: number | undefined;
  let nModified: number | undefined;
  let upserted: number | undefined;
  let writeErrors: BsonElement | undefined;
  let writeConcernError: BsonElement | undefined;
  let cursor: BsonElement | undefined;
  let lastErrorObject: BsonElement | undefined;
  walkDocument(buf, start, limit, 'reply body', (e) => {
    if (keyIs(buf, e, 'ok')) ok = numberValue(buf, e);
    else if (keyIs(buf, e, 'code')) code = e;
    else if (keyIs(buf, e, 'codeName')) codeName = e;
    else if (keyIs(buf, e, 'errmsg')) errmsg = e;
    else if (keyIs(buf, e, 'n')) n = numberValue(buf, e);
    else if (keyIs(buf, e, 'nModified')) nModified = numberValue(buf, e);
    else if (keyIs(buf, e, 'upserted') && e.type === BSON_TYPES.array) upserted = countElements(buf, e, 'upserted');
    else if (keyIs(buf, e, 'writeErrors') && e.type === BSON_TYPES.array) writeErrors = e;
    else if (keyIs(buf, e, 'writeConcernError') && e.type === BSON_TYPES.document) writeConcernError = e;
    else if (keyIs(buf, e, 'cursor') && e.type === BSON_TYPES.document) cursor = e;
    else if (keyIs(buf, e, 'lastErrorObject') && e.type === BSON_TYPES.document) lastErrorObject = e;
  });

  const summary: ReplySummary = { ok: ok === 1 };
  if (!summary.ok) {
    Object.assign(summary, errorFields(buf, code, codeName, errmsg));
    if (ok === undefined && summary.errorMessage === undefined) summary.errorMessage = 'reply has no ok field';
    return summary;
  }
  if (nModified !== undefined) summary.affected = nModified + (upserted ?? 0);
  else if (n !== undefined) summary.affected = n;
  if (lastErrorObject) {
    walkDocument(buf, lastErrorObject.valueStart, lastErrorObject.valueEnd, 'lastErrorObject', (e) => {
      if (keyIs(buf, e, 'n')) summary.affected = numberValue(buf, e);
    });
  }
  if (cursor) readCursor(buf, cursor, summary);
  // A write that "succeeded" with write errors failed for the user: record the first error.
  const firstWriteError = writeErrors ? firstElement(buf, writeErrors) : undefined;
  if (firstWriteError && isDocument(firstWriteError)) {
    summary.ok = false;
    Object.assign(summary, readErrorFields(buf, firstWriteError.valueStart, firstWriteError.valueEnd));
  } else if (writeConcernError) {
    summary.ok = false;
    Object.assign(summary, readErrorFields(buf, writeConcernError.valueStart, writeConcernError.valueEnd));
  }
  return summary;
}

function firstElement(buf: Buffer, array: BsonElement): BsonElement | undefined {
  let first: BsonElement | undefined;
  walkDocument(buf, array.valueStart, array.valueEnd, 'array', (e) => {
    first = e;
    return false;
  });
  return first;
}

function readCursor(buf: Buffer, cursor: BsonElement, summary: ReplySummary): void {
  walkDocument(buf, cursor.valueStart, cursor.valueEnd, 'cursor', (e) => {
    if ((keyIs(buf, e, 'firstBatch') || keyIs(buf, e, 'nextBatch')) && e.type === BSON_TYPES.array) {
      summary.documents = countElements(buf, e, 'cursor batch');
    } else if (keyIs(buf, e, 'id')) {
      if (e.type === BSON_TYPES.int64) summary.cursorId = buf.readBigInt64LE(e.valueStart);
      else if (e.type === BSON_TYPES.int32) summary.cursorId = BigInt(buf.readInt32LE(e.valueStart));
    }
  });
}

/** True when an OP_MSG reply says more replies follow without a new request (exhaust / streaming hello). */
export function replyHasMoreToCome(reply: Buffer): boolean {
  return (
    reply.length >= HEADER_SIZE + 4 &&
    reply.readInt32LE(12) === OP_CODES.msg &&
    (reply.readUInt32LE(HEADER_SIZE) & OP_MSG_FLAGS.moreToCome) !== 0
  );
}
