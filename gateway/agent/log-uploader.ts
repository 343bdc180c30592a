/**
 * Numbers the engine's log events per session, groups them into batches and keeps every batch until the control
 * plane acknowledges it. Batches are resent after a reconnect (and when an acknowledgement is long overdue); the
 * control plane stores them idempotently on (sessionId, origin, seq), so nothing is lost or doubled across a
 * restart of either side.
 *
 * The buffer is bounded (maxBufferedEvents). When it is full the uploader reports it and the agent fails closed:
 * it closes client connections and refuses new ones until batches are acknowledged again, because an access
 * system must not let commands through that it cannot record. Events that still arrive while full (the
 * "connection closed" events of the connections being closed) are kept.
 */
import { randomBytes } from 'node:crypto';
import type { GatewayToServer, LogBatch } from '../../protocol/gateway-channel';
import type { SessionLogEvent } from '../../protocol/session-log';

type LogsMessage = Extract<GatewayToServer, { type: 'logs' }>;

export interface LogUploaderOptions {
  /** Sends a message on the control channel; false when the channel is down (the batch waits for a reconnect). */
  send(message: LogsMessage): boolean;
  flushIntervalMs?: number;
  maxBatchEvents?: number;
  maxBufferedEvents?: number;
  /** A sent batch without acknowledgement after this long is sent again. */
  resendAfterMs?: number;
  /** Called when the buffer becomes full (true) and when it has room again (false). */
  onFull?(full: boolean): void;
  /** Called with how long the control plane took to acknowledge a batch since it was (last) sent. */
  onUploadLatency?(ms: number): void;
  /** Called with each batch the control plane acknowledged (the spool forgets its events). */
  onAcknowledged?(batch: LogBatch): void;
}

interface Unacked {
  message: LogsMessage;
  events: number;
  sentAt: number;
}

export class LogUploader {
  /** Random id of this process run; with seq it makes every event unique within its session. */
  readonly origin = `org_${randomBytes(9).toString('base64url')}`;
  /** Kept for the whole run (never reset), so a late event of an ended session cannot reuse a number. */
  private readonly seqs = new Map<string, number>();
  /** Events not yet sent, by session and origin (events recovered from a spool keep their earlier run's origin). */
  private readonly waiting = new Map<string, { sessionId: string; origin: string; events: LogBatch['events'] }>();
  private readonly unacked = new Map<string, Unacked>();
  private waitingCount = 0;
  private unackedCount = 0;
  private full = false;
  private readonly timer: NodeJS.Timeout;
  private readonly drainWaiters = new Set<() => void>();
  private readonly flushIntervalMs: number;
  private readonly maxBatchEvents: number;
  private readonly maxBufferedEvents: number;
  private readonly resendAfterMs: number;

  constructor(private readonly options: LogUploaderOptions) {
    this.flushIntervalMs = options.flushIntervalMs ?? 250;
    this.maxBatchEvents = options.maxBatchEvents ?? 200;
    this.maxBufferedEvents = options.maxBufferedEvents ?? 50_000;
    this.resendAfterMs = options.resendAfterMs ?? 30_000;
    this.timer = setInterval(() => this.tick(), this.flushIntervalMs);
    this.timer.unref();
  }

  /** Events buffered (waiting or sent but not acknowledged). */
  get buffered(): number {
    return this.waitingCount + this.unackedCount;
  }

  get isFull(): boolean {
    return this.full;
  }

  add(sessionId: string, event: SessionLogEvent): void {
    this.addNumbered(sessionId, this.nextSeq(sessionId), event);
  }

  /** The number the session's next event gets (taken: a command numbered when it starts keeps its number). */
  nextSeq(sessionId: string): number {
    const seq = (this.seqs.get(sessionId) ?? 0) + 1;
    this.seqs.set(sessionId, seq);
    return seq;
  }

  /** Queues an event that already has its number (and, when recovered from a spool, its earlier run's origin). */
  addNumbered(sessionId: string, seq: number, event: SessionLogEvent, origin = this.origin): void {
    const key = `${sessionId}\n${origin}`;
    let entry = this.waiting.get(key);
    if (!entry) {
      entry = { sessionId, origin, events: [] };
      this.waiting.set(key, entry);
    }
    entry.events.push({ ...event, seq });
    this.waitingCount++;
    if (entry.events.length >= this.maxBatchEvents) this.flush();
    this.updateFull();
  }

  /** Turns waiting events into batches and sends them. */
  flush(): void {
    for (const { sessionId, origin, events } of this.waiting.values()) {
      for (let i = 0; i < events.length; i += this.maxBatchEvents) {
        const slice = events.slice(i, i + this.maxBatchEvents);
        const batchId = `lb_${randomBytes(9).toString('base64url')}`;
        const message: LogsMessage = { type: 'logs', batchId, batch: { sessionId, origin, events: slice } };
        this.unacked.set(batchId, { message, events: slice.length, sentAt: this.options.send(message) ? Date.now() : 0 });
        this.unackedCount += slice.length;
      }
    }
    this.waiting.clear();
    this.waitingCount = 0;
  }

  acknowledge(batchId: string): void {
    const entry = this.unacked.get(batchId);
    if (!entry) return;
    this.unacked.delete(batchId);
    this.unackedCount -= entry.events;
    if (entry.sentAt > 0) this.options.onUploadLatency?.(Date.now() - entry.sentAt);
    this.options.onAcknowledged?.(entry.message.batch);
    this.updateFull();
    if (this.buffered === 0) {
      for (const resolve of this.drainWaiters) resolve();
      this.drainWaiters.clear();
    }
  }

  /** After a reconnect: sends every unacknowledged batch again, oldest first. */
  resendAll(): void {
    for (const entry of this.unacked.values()) {
      if (!this.options.send(entry.message)) return;
      entry.sentAt = Date.now();
    }
  }

  /** Flushes and waits until everything is acknowledged, or the time is up; true when all was acknowledged. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.flush();
    if (this.buffered === 0) return true;
    let resolveFn: () => void = () => {};
    const drained = new Promise<void>((resolve) => {
      resolveFn = resolve;
      this.drainWaiters.add(resolve);
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([drained, timeout]);
    clearTimeout(timer);
    this.drainWaiters.delete(resolveFn);
    return this.buffered === 0;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    if (this.waitingCount > 0) this.flush();
    const overdue = Date.now() - this.resendAfterMs;
    for (const entry of this.unacked.values()) {
      if (entry.sentAt !== 0 && entry.sentAt >= overdue) continue;
      if (!this.options.send(entry.message)) break;
      entry.sentAt = Date.now();
    }
  }

  private updateFull(): void {
    const full = this.buffered >= this.maxBufferedEvents;
    if (full === this.full) return;
    // Leave the full state only with some room, so that it does not flap on every acknowledgement.
    if (!full && this.buffered > this.maxBufferedEvents * 0.9) return;
    this.full = full;
    this.options.onFull?.(full);
  }
}
