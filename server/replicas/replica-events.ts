/**
 * Events every replica must act on, whichever replica they happened on: a session ended (its streams are cut
 * wherever they run), a gateway was deleted (its channels are closed everywhere).
 *
 * PostgreSQL carries them with NOTIFY on one channel, heard through LISTEN on a connection of this replica's own
 * (no replica-to-replica traffic: the database is the only thing replicas share). NOTIFY is fast (milliseconds) but
 * not durable: a replica whose listening connection was down misses what was sent meanwhile. So after every
 * (re)connect the bus emits `resync`, on which listeners compare what they hold against the database; the session
 * lifecycle also does that every few seconds whatever happens (server/sessions/lifecycle.ts).
 *
 * SQLite has one replica: the bus only delivers to this process.
 */
import { EventEmitter } from 'node:events';
import { sql } from 'kysely';
import pg from 'pg';
import type { SessionEndReason } from '../../protocol/api';
import type { Store } from '../store/store';

export type ReplicaEvent =
  | { type: 'session.ended'; sessionId: string; reason: SessionEndReason; gatewayId: string }
  | { type: 'gateway.deleted'; gatewayId: string }
  /** The policy of these sessions' account changed: their gateway fetches it again. */
  | { type: 'sessions.refresh'; gatewayId: string; sessionIds: string[] };

/** An event and the replica it happened on. */
export type ReplicaEventFrom = ReplicaEvent & { from: string };

export interface ReplicaEventsEvents {
  /** Every event, this replica's own included (delivered at once, before the database hears of it). */
  event: [ReplicaEventFrom];
  /** The listening connection (re)connected: events sent while it was down are lost; check the database. */
  resync: [];
}

export const REPLICA_EVENTS_CHANNEL = 'portcullis_replica_events';
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

export interface ReplicaEventsOptions {
  /** This replica's id (server/replicas/replica-registry.ts): events it sent are not delivered twice. */
  replicaId: string;
  /** The PostgreSQL URL; none on SQLite. */
  databaseUrl?: string;
}

type Log = (level: 'info' | 'warn', message: string) => void;

export class ReplicaEvents extends EventEmitter<ReplicaEventsEvents> {
  private client: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelayMs = RECONNECT_MIN_MS;
  private closed = false;
  /** Where problems are reported; set once the server's logger exists. */
  log: Log = () => {};

  constructor(
    private readonly store: Store,
    private readonly options: ReplicaEventsOptions,
  ) {
    super();
  }

  /** Starts listening (PostgreSQL); resolves once the first LISTEN is in place, or rejects when it cannot be. */
  async start(): Promise<void> {
    if (this.store.dialect !== 'postgres' || !this.options.databaseUrl) return;
    await this.listen();
  }

  /** Acts on `event` here at once, and tells the other replicas. Never throws: they also resync from the database. */
  async publish(event: ReplicaEvent): Promise<void> {
    const from: ReplicaEventFrom = { ...event, from: this.options.replicaId };
    try {
      this.emit('event', from);
    } catch {
      // A listener's failure here must not keep the others from hearing of it.
    }
    if (this.store.dialect !== 'postgres') return;
    try {
      await sql`select pg_notify(${REPLICA_EVENTS_CHANNEL}, ${JSON.stringify(from)})`.execute(this.store.db);
    } catch (error) {
      this.log('warn', `could not tell the other replicas (${event.type}): ${(error as Error).message}; they will see it in the database`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl });
    client.on('notification', (message) => {
      if (message.channel !== REPLICA_EVENTS_CHANNEL || !message.payload) return;
      const event = parseEvent(message.payload);
      if (!event || event.from === this.options.replicaId) return;
      this.emit('event', event);
    });
    // An error is followed by 'end'; reconnecting happens there.
    client.on('error', () => {});
    client.on('end', () => {
      if (this.client !== client || this.closed) return;
      this.client = undefined;
      this.log('warn', 'the connection listening for other replicas’ events closed; reconnecting');
      this.scheduleReconnect();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${REPLICA_EVENTS_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectDelayMs = RECONNECT_MIN_MS;
    this.emit('resync');
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(RECONNECT_MAX_MS, this.reconnectDelayMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.listen().catch((error) => {
        this.log('warn', `listening for other replicas’ events failed: ${(error as Error).message}; retrying`);
        this.scheduleReconnect();
      });
    }, delay);
    this.reconnectTimer.unref();
  }
}

const END_REASONS: ReadonlySet<string> = new Set<SessionEndReason>([
  'stopped',
  'idle',
  'gateway_offline',
  'expired',
  'terminated',
  'failed',
]);

/** What another replica sent, checked field by field (a malformed payload is ignored, not trusted). */
function parseEvent(payload: string): ReplicaEventFrom | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.from !== 'string' || typeof v.gatewayId !== 'string') return undefined;
  if (v.type === 'gateway.deleted') return { type: 'gateway.deleted', gatewayId: v.gatewayId, from: v.from };
  if (v.type === 'sessions.refresh' && Array.isArray(v.sessionIds) && v.sessionIds.every((id) => typeof id === 'string')) {
    return { type: 'sessions.refresh', gatewayId: v.gatewayId, sessionIds: v.sessionIds as string[], from: v.from };
  }
  if (v.type === 'session.ended' && typeof v.sessionId === 'string' && typeof v.reason === 'string' && END_REASONS.has(v.reason)) {
    return { type: 'session.ended', sessionId: v.sessionId, reason: v.reason as SessionEndReason, gatewayId: v.gatewayId, from: v.from };
  }
  return undefined;
}
