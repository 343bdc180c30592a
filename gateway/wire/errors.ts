/** MongoDB server error codes the gateway answers with (subset of the server's error_codes.yml). */
export const MONGO_ERROR_CODES = Object.freeze({
  InternalError: 1,
  BadValue: 2,
  HostUnreachable: 6,
  HostNotFound: 7,
  FailedToParse: 9,
  Unauthorized: 13,
  Overflow: 15,
  ProtocolError: 17,
  AuthenticationFailed: 18,
  IllegalOperation: 20,
  InvalidBSON: 22,
  CommandNotFound: 59,
  InvalidOptions: 72,
  NetworkTimeout: 89,
  OperationFailed: 96,
  CommandNotSupported: 115,
  ExceededMemoryLimit: 146,
  BSONObjectTooLarge: 10334,
} as const);

export type MongoErrorName = keyof typeof MONGO_ERROR_CODES;

/**
 * A message broke the wire protocol (bad size, bad layout, bad BSON) or was refused by the codec.
 * It carries a MongoDB error code so it can be sent back to the client as-is (see error-reply.ts).
 */
export class WireProtocolError extends Error {
  override name = 'WireProtocolError';
  readonly code: number;
  readonly codeName: string;

  constructor(message: string, codeName: MongoErrorName = 'ProtocolError', options?: { cause?: unknown }) {
    super(message, options);
    this.codeName = codeName;
    this.code = MONGO_ERROR_CODES[codeName];
  }
}
