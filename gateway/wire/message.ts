import { COMPRESSOR_IDS, OP_CODES } from './constants';
import { WireProtocolError } from './errors';
import { type MessageHeader, readWholeMessageHeader } from './header';
import { decompressMessage, parseOpCompressed } from './op-compressed';
import { type OpMsg, parseOpMsg } from './op-msg';
import { type OpQuery, parseOpQuery } from './op-query';
import { type OpReply, parseOpReply } from './op-reply';

/** Set on a message that arrived inside OP_COMPRESSED and was decompressed to be parsed. */
export interface CompressionMark {
  wasCompressed?: true;
  compressorId?: number;
}

export type ParsedMessage =
  | ({ kind: 'msg'; msg: OpMsg } & CompressionMark)
  | ({ kind: 'query'; query: OpQuery } & CompressionMark)
  | ({ kind: 'reply'; reply: OpReply } & CompressionMark)
  /** Only with `decompress: false`: the compressed envelope, not inflated. */
  | { kind: 'compressed'; header: MessageHeader; originalOpCode: number; uncompressedSize: number; compressorId: number }
  /** OP_UPDATE, OP_INSERT, OP_GET_MORE, OP_DELETE, OP_KILL_CURSORS (removed in MongoDB 6.0) and unknown opcodes: not parsed. */
  | ({ kind: 'legacy'; opCode: number; header: MessageHeader } & CompressionMark);

export interface ParseMessageOptions {
  maxMessageSize: number;
  /** Require `$db` in OP_MSG bodies (set it for client requests). Default false. */
  requireDb?: boolean;
  /** Inflate OP_COMPRESSED and return the inner message (default true). */
  decompress?: boolean;
}

/** Parses one whole raw message (as returned by MessageFramer), dispatching on the opcode. Throws WireProtocolError. */
export function parseMessage(raw: Buffer, options: ParseMessageOptions): ParsedMessage {
  const header = readWholeMessageHeader(raw, 'message');
  if (header.messageLength > options.maxMessageSize) {
    throw new WireProtocolError(
      `message length ${header.messageLength} exceeds the maximum message size of ${options.maxMessageSize} bytes`,
      'BSONObjectTooLarge',
    );
  }
  if (header.opCode === OP_CODES.compressed) {
    if (options.decompress === false) {
      const envelope = parseOpCompressed(raw, options.maxMessageSize);
      return {
        kind: 'compressed',
        header,
        originalOpCode: envelope.originalOpCode,
        uncompressedSize: envelope.uncompressedSize,
        compressorId: envelope.compressorId,
      };
    }
    const compressorId = raw.length > 24 ? raw[24] : COMPRESSOR_IDS.noop;
    const inner = parseUncompressed(decompressMessage(raw, options.maxMessageSize), options);
    return { ...inner, wasCompressed: true, compressorId } as ParsedMessage;
  }
  return parseUncompressed(raw, options);
}

function parseUncompressed(raw: Buffer, options: ParseMessageOptions): ParsedMessage {
  const header = readWholeMessageHeader(raw, 'message');
  switch (header.opCode) {
    case OP_CODES.msg:
      return { kind: 'msg', msg: parseOpMsg(raw, { requireDb: options.requireDb }) };
    case OP_CODES.query:
      return { kind: 'query', query: parseOpQuery(raw) };
    case OP_CODES.reply:
      return { kind: 'reply', reply: parseOpReply(raw) };
    case OP_CODES.compressed:
      throw new WireProtocolError('OP_COMPRESSED: nested compression is refused');
    default:
      return { kind: 'legacy', opCode: header.opCode, header };
  }
}

/** The header of any parsed message. */
export function headerOf(m: ParsedMessage): MessageHeader {
  switch (m.kind) {
    case 'msg':
      return m.msg.header;
    case 'query':
      return m.query.header;
    case 'reply':
      return m.reply.header;
    default:
      return m.header;
  }
}
