import type { Document } from 'bson';
import { OP_CODES, OP_REPLY_FLAGS } from './constants';
import { encodeOpMsg } from './op-msg';
import { encodeOpReply } from './op-reply';

/** What errorReplyFor needs to know about the request it answers. */
export interface RequestRef {
  /** The request's opcode (for a decompressed request: the inner one). */
  opCode: number;
  requestId: number;
}

export interface ReplyError {
  code: number;
  codeName: string;
  message: string;
}

/**
 * An error reply in the request's own format: OP_MSG gets an OP_MSG `{ok: 0, errmsg, code, codeName}`; OP_QUERY
 * (and other legacy requests) get OP_REPLY with QueryFailure and `$err` as well. `requestId` is the reply's own id.
 */
export function errorReplyFor(request: RequestRef, error: ReplyError, requestId: number): Buffer {
  if (request.opCode === OP_CODES.msg) {
    return encodeOpMsg({
      requestId,
      responseTo: request.requestId,
      body: { ok: 0, errmsg: error.message, code: error.code, codeName: error.codeName },
    });
  }
  return encodeOpReply({
    requestId,
    responseTo: request.requestId,
    responseFlags: OP_REPLY_FLAGS.queryFailure,
    documents: [{ $err: error.message, code: error.code, ok: 0, errmsg: error.message, codeName: error.codeName }],
  });
}

/** A successful reply the gateway makes itself (e.g. a rewritten hello), in the request's format. */
export function okReplyFor(request: RequestRef, body: Document, requestId: number): Buffer {
  if (request.opCode === OP_CODES.msg) return encodeOpMsg({ requestId, responseTo: request.requestId, body });
  return encodeOpReply({ requestId, responseTo: request.requestId, documents: [body] });
}
