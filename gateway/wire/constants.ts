/** Wire protocol opcodes (MongoDB `OP_*`). Modern drivers use OP_MSG; OP_QUERY/OP_REPLY survive in the first handshake. */
export const OP_CODES = Object.freeze({
  reply: 1,
  update: 2001,
  insert: 2002,
  query: 2004,
  getMore: 2005,
  delete: 2006,
  killCursors: 2007,
  compressed: 2012,
  msg: 2013,
} as const);

export type OpCode = (typeof OP_CODES)[keyof typeof OP_CODES];

/** OP_MSG flag bits. Bits 0-15 are "required": a receiver must reject unknown ones. */
export const OP_MSG_FLAGS = Object.freeze({
  checksumPresent: 1 << 0,
  moreToCome: 1 << 1,
  exhaustAllowed: 1 << 16,
} as const);

/** OP_REPLY responseFlags bits. */
export const OP_REPLY_FLAGS = Object.freeze({
  cursorNotFound: 1,
  queryFailure: 2,
  awaitCapable: 8,
} as const);

/** OP_QUERY flag bits (bit 0 is reserved and must be zero). */
export const OP_QUERY_FLAGS = Object.freeze({
  tailableCursor: 1 << 1,
  secondaryOk: 1 << 2,
  oplogReplay: 1 << 3,
  noCursorTimeout: 1 << 4,
  awaitData: 1 << 5,
  exhaust: 1 << 6,
  partial: 1 << 7,
} as const);

/** messageLength, requestID, responseTo, opCode: four int32s. */
export const HEADER_SIZE = 16;

/** MongoDB's default `maxMessageSizeBytes`; the engine replaces it with the server's hello value. */
export const DEFAULT_MAX_MESSAGE_SIZE = 48_000_000;

export const COMPRESSOR_IDS = Object.freeze({
  noop: 0,
  snappy: 1,
  zlib: 2,
  zstd: 3,
} as const);

export type CompressorId = (typeof COMPRESSOR_IDS)[keyof typeof COMPRESSOR_IDS];

/** Smallest BSON document: int32 length + terminating NUL. */
export const MIN_BSON_DOCUMENT_SIZE = 5;
