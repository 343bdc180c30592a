import { DEFAULT_MAX_NESTING_DEPTH } from '../wire/command-identity';

/**
 * What one gateway process lets its clients cost it. Messages arrive whole in one read most of the time and are
 * never buffered; only a message split across reads is held until its last byte arrives, and that is what these
 * limits bound: memory across all connections, and time per message.
 */
export interface GatewayLimits {
  /** Bytes of partly received client messages that all connections together may hold (default 256 MiB). */
  maxPendingBytes: number;
  /** Time a message may take to arrive once its first byte is in, plus `messageTimeoutMsPerMiB` per MiB it declares. */
  messageTimeoutMs: number;
  messageTimeoutMsPerMiB: number;
  /** Deepest nesting of documents and arrays in a command (the server's own limit is about 200). */
  maxNestingDepth: number;
}

export const DEFAULT_GATEWAY_LIMITS: Readonly<GatewayLimits> = Object.freeze({
  maxPendingBytes: 256 * 1024 * 1024,
  messageTimeoutMs: 30_000,
  messageTimeoutMsPerMiB: 1_000,
  maxNestingDepth: DEFAULT_MAX_NESTING_DEPTH,
});

/** Memory for partly received messages, shared by every connection that holds a reference. */
export class PendingBytesBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Takes `bytes` from the budget; false (and nothing taken) when that would exceed the limit. */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  get inUse(): number {
    return this.used;
  }
}

/** The budget of every connection served without one of its own: one per process, as the limit means. */
let processBudget: PendingBytesBudget | undefined;
export function processPendingBytesBudget(): PendingBytesBudget {
  processBudget ??= new PendingBytesBudget(DEFAULT_GATEWAY_LIMITS.maxPendingBytes);
  return processBudget;
}

/** How long a message of `declaredLength` bytes (unknown: -1) may take to arrive. */
export function messageDeadlineMs(limits: Pick<GatewayLimits, 'messageTimeoutMs' | 'messageTimeoutMsPerMiB'>, declaredLength: number): number {
  const mib = declaredLength > 0 ? declaredLength / (1024 * 1024) : 0;
  return limits.messageTimeoutMs + Math.ceil(mib * limits.messageTimeoutMsPerMiB);
}
