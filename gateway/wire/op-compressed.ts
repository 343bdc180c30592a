import { deflateSync, inflateSync } from 'node:zlib';
import { COMPRESSOR_IDS, HEADER_SIZE, OP_CODES } from './constants';
import { WireProtocolError } from './errors';
import { readWholeMessageHeader, writeHeader } from './header';

/*
 * OP_COMPRESSED (2012):
 *   header 16 | int32 originalOpcode | int32 uncompressedSize (original message without its header)
 *   | uint8 compressorId | compressed bytes
 * The gateway strips compression from the handshake, so this only shows up from a misbehaving peer; it is
 * decompressed (zlib, noop) to be inspected like any other message, under the same size cap.
 */

export interface OpCompressed {
  originalOpCode: number;
  uncompressedSize: number;
  compressorId: number;
  compressed: Buffer;
}

const FIELDS_SIZE = 9;

export function parseOpCompressed(raw: Buffer, maxMessageSize: number): OpCompressed {
  const header = readWholeMessageHeader(raw, 'OP_COMPRESSED');
  if (header.opCode !== OP_CODES.compressed)
    throw new WireProtocolError(`OP_COMPRESSED: opcode is ${header.opCode}, not ${OP_CODES.compressed}`);
  if (raw.length < HEADER_SIZE + FIELDS_SIZE) throw new WireProtocolError('OP_COMPRESSED: message ends inside the compression fields');
  const originalOpCode = raw.readInt32LE(HEADER_SIZE);
  const uncompressedSize = raw.readInt32LE(HEADER_SIZE + 4);
  const compressorId = raw[HEADER_SIZE + 8];
  if (originalOpCode === OP_CODES.compressed)
    throw new WireProtocolError('OP_COMPRESSED: nested compression (the original opcode is OP_COMPRESSED) is refused');
  if (uncompressedSize < 1) throw new WireProtocolError(`OP_COMPRESSED: uncompressed size ${uncompressedSize} is invalid`);
  if (uncompressedSize > maxMessageSize - HEADER_SIZE) {
    throw new WireProtocolError(
      `OP_COMPRESSED: declared uncompressed size ${uncompressedSize} exceeds the maximum message size of ${maxMessageSize} bytes`,
      'BSONObjectTooLarge',
    );
  }
  return { originalOpCode, uncompressedSize, compressorId, compressed: raw.subarray(HEADER_SIZE + FIELDS_SIZE) };
}

/** Returns the original message, header rebuilt with the original opcode and length. */
export function decompressMessage(raw: Buffer, maxMessageSize: number): Buffer {
  const header = readWholeMessageHeader(raw, 'OP_COMPRESSED');
  const parsed = parseOpCompressed(raw, maxMessageSize);
  const body = decompressBody(parsed);
  if (body.length !== parsed.uncompressedSize) {
    throw new WireProtocolError(`OP_COMPRESSED: decompressed to ${body.length} bytes, but ${parsed.uncompressedSize} were declared`);
  }
  const out = Buffer.allocUnsafe(HEADER_SIZE + body.length);
  writeHeader(out, {
    messageLength: out.length,
    requestId: header.requestId,
    responseTo: header.responseTo,
    opCode: parsed.originalOpCode,
  });
  body.copy(out, HEADER_SIZE);
  return out;
}

function decompressBody(parsed: OpCompressed): Buffer {
  switch (parsed.compressorId) {
    case COMPRESSOR_IDS.noop:
      return parsed.compressed;
    case COMPRESSOR_IDS.zlib:
      try {
        // maxOutputLength stops a decompression bomb at the declared size instead of filling memory.
        return inflateSync(parsed.compressed, { maxOutputLength: parsed.uncompressedSize });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ERR_BUFFER_TOO_LARGE') {
          throw new WireProtocolError(
            `OP_COMPRESSED: zlib data inflates past the declared size of ${parsed.uncompressedSize} bytes`,
            'ProtocolError',
            {
              cause: error,
            },
          );
        }
        throw new WireProtocolError(`OP_COMPRESSED: zlib data is invalid (${(error as Error).message})`, 'ProtocolError', { cause: error });
      }
    case COMPRESSOR_IDS.snappy:
    case COMPRESSOR_IDS.zstd:
      throw new WireProtocolError(
        `OP_COMPRESSED: ${parsed.compressorId === COMPRESSOR_IDS.snappy ? 'snappy' : 'zstd'} compression is not supported through the gateway; connect without compressors`,
        'CommandNotSupported',
      );
    default:
      throw new WireProtocolError(`OP_COMPRESSED: unknown compressor id ${parsed.compressorId}`);
  }
}

/** Wraps a whole message in OP_COMPRESSED (zlib or noop); for tests and for peers that insist on compression. */
export function encodeOpCompressed(message: Buffer, compressorId: 0 | 2 = COMPRESSOR_IDS.zlib): Buffer {
  const header = readWholeMessageHeader(message, 'OP_COMPRESSED input');
  const original = message.subarray(HEADER_SIZE);
  const compressed = compressorId === COMPRESSOR_IDS.zlib ? deflateSync(original) : original;
  const out = Buffer.allocUnsafe(HEADER_SIZE + FIELDS_SIZE + compressed.length);
  let offset = writeHeader(out, {
    messageLength: out.length,
    requestId: header.requestId,
    responseTo: header.responseTo,
    opCode: OP_CODES.compressed,
  });
  offset = out.writeInt32LE(header.opCode, offset);
  offset = out.writeInt32LE(original.length, offset);
  out[offset++] = compressorId;
  compressed.copy(out, offset);
  return out;
}
