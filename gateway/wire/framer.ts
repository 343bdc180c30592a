import { DEFAULT_MAX_MESSAGE_SIZE, HEADER_SIZE } from './constants';
import { WireProtocolError } from './errors';

/** Checks a declared message length before anything of that size is buffered. */
export function checkMessageLength(length: number, maxMessageSize: number): void {
  if (length < 0) throw new WireProtocolError(`message length ${length} is negative`);
  if (length < HEADER_SIZE) throw new WireProtocolError(`message length ${length} is shorter than a header (${HEADER_SIZE} bytes)`);
  if (length > maxMessageSize) {
    throw new WireProtocolError(
      `message length ${length} exceeds the maximum message size of ${maxMessageSize} bytes`,
      'BSONObjectTooLarge',
    );
  }
}

/**
 * Splits a byte stream into whole wire messages by their length prefix.
 *
 * Hot path: when a chunk holds only whole messages they are returned as subarrays of it (no copy). A message split
 * across chunks is joined with one concat once all of it has arrived, so each byte is copied at most twice.
 * A bad length throws a WireProtocolError as soon as its 4 bytes are seen; the stream cannot be resynchronised,
 * so every later push throws the same error.
 */
export class MessageFramer {
  maxMessageSize: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Declared length of the message at the head of `pending`, once its 4 bytes are in. */
  private pendingLength = -1;
  private failure: WireProtocolError | undefined;

  constructor(options: { maxMessageSize: number } = { maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE }) {
    this.maxMessageSize = options.maxMessageSize;
  }

  /** Bytes held back as part of an incomplete message. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Declared length of the incomplete message being held, or -1 while its length bytes are not all in. */
  get pendingMessageLength(): number {
    return this.pendingBytes > 0 ? this.pendingLength : -1;
  }

  /** The header of the incomplete message being held, once its 16 bytes are in (to answer it with an error). */
  pendingHeader(): Buffer | undefined {
    if (this.pendingBytes < HEADER_SIZE) return undefined;
    const first = this.pending[0];
    return first.length >= HEADER_SIZE ? first.subarray(0, HEADER_SIZE) : Buffer.concat(this.pending).subarray(0, HEADER_SIZE);
  }

  push(chunk: Buffer): Buffer[] {
    if (this.failure) throw this.failure;
    try {
      return this.pushUnchecked(chunk);
    } catch (error) {
      this.failure = error as WireProtocolError;
      this.pending = [];
      this.pendingBytes = 0;
      throw error;
    }
  }

  private pushUnchecked(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    if (this.pendingBytes === 0) return this.splitWhole(chunk);

    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingLength < 0) {
      if (this.pendingBytes < 4) return [];
      this.pendingLength = this.readPendingLength();
      checkMessageLength(this.pendingLength, this.maxMessageSize);
    }
    if (this.pendingBytes < this.pendingLength) return [];
    const joined = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingLength = -1;
    return this.splitWhole(joined);
  }

  /** Cuts whole messages off the front of `buf` (as subarrays); keeps the rest pending. */
  private splitWhole(buf: Buffer): Buffer[] {
    const messages: Buffer[] = [];
    let offset = 0;
    while (buf.length - offset >= 4) {
      const length = buf.readInt32LE(offset);
      checkMessageLength(length, this.maxMessageSize);
      if (buf.length - offset < length) {
        this.pendingLength = length;
        break;
      }
      messages.push(buf.subarray(offset, offset + length));
      offset += length;
    }
    if (offset < buf.length) {
      // Copy a small tail so it does not pin a large socket chunk in memory.
      const rest = buf.length - offset < 4096 ? Buffer.from(buf.subarray(offset)) : buf.subarray(offset);
      this.pending = [rest];
      this.pendingBytes = rest.length;
    }
    return messages;
  }

  private readPendingLength(): number {
    const first = this.pending[0];
    if (first.length >= 4) return first.readInt32LE(0);
    const head = Buffer.allocUnsafe(4);
    let filled = 0;
    for (const part of this.pending) {
      const take = Math.min(4 - filled, part.length);
      part.copy(head, filled, 0, take);
      filled += take;
      if (filled === 4) break;
    }
    return head.readInt32LE(0);
  }
}
