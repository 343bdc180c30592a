/**
 * This control-plane process as one replica among those sharing the database: a row in `replicas` with the address
 * gateways reach it at and a lease renewed on every heartbeat. The live replicas (lease not passed) are what the
 * relay tells gateways, which keep one control channel to each. A replica that dies stops renewing; its lease passes
 * within three heartbeats and it drops out of the list. On SQLite there is one replica: a registry of one.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Kysely } from 'kysely';
import type { ReplicaInfo } from '../../protocol/gateway-channel';
import type { Database } from '../store/schema';

/** A new replica id: one per control-plane process run. */
export function newReplicaId(): string {
  return `rep_${randomBytes(9).toString('base64url')}`;
}

export interface ReplicaRegistryOptions {
  /** This replica's id (default: a new one). */
  id?: string;
  /** Base address gateways reach this replica at. */
  url: string;
  /** How often the lease is renewed and the live list reread. */
  heartbeatMs: number;
  now?: () => Date;
}

/** A lease outlives this many missed renewals. */
const LEASE_HEARTBEATS = 3;
/** Rows of replicas gone this long are deleted (they are kept a while for whoever investigates an incident). */
const FORGET_AFTER_MS = 24 * 3600_000;

export interface ReplicaRegistryEvents {
  /** The live list changed. */
  changed: [ReplicaInfo[]];
  /** Something an operator must fix (several live replicas registered under one address). */
  warning: [string];
}

export class ReplicaRegistry extends EventEmitter<ReplicaRegistryEvents> {
  readonly id: string;
  private liveList: ReplicaInfo[];
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => Date;
  /** Replica ids already warned about sharing this replica's address. */
  private readonly warnedAbout = new Set<string>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: ReplicaRegistryOptions,
  ) {
    super();
    this.id = options.id ?? newReplicaId();
    this.now = options.now ?? (() => new Date());
    this.liveList = [{ id: this.id, url: options.url }];
  }

  get url(): string {
    return this.options.url;
  }

  /** The live replicas as of the last renewal, this one included. */
  live(): ReplicaInfo[] {
    return this.liveList;
  }

  /** Registers this replica, reads the live list, and renews both every heartbeat. */
  async start(): Promise<void> {
    const now = this.now();
    await this.db
      .insertInto('replicas')
      .values({ id: this.id, url: this.options.url, started_at: now.toISOString(), lease_expires_at: this.leaseFrom(now) })
      .execute();
    await this.refresh();
    this.timer = setInterval(() => {
      this.renew().catch(() => {
        // The database is unreachable: the lease runs out and other replicas stop listing this one, which is true.
      });
    }, this.options.heartbeatMs);
    this.timer.unref();
  }

  /** Leaves the list at once (a clean stop), so that gateways drop their channel without waiting for the lease. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.db.deleteFrom('replicas').where('id', '=', this.id).execute();
  }

  /**
   * Gateways open one channel per live replica at its address: two replicas under one address (PORTCULLIS_REPLICA_URL
   * unset, so both took the public URL, or copied from one to the other) get one channel between them, and the
   * streams of the other wait for a channel that never comes.
   */
  private warnOfSharedAddress(list: ReplicaInfo[]): void {
    for (const other of list) {
      if (other.id === this.id || other.url !== this.options.url || this.warnedAbout.has(other.id)) continue;
      this.warnedAbout.add(other.id);
      this.emit(
        'warning',
        `replica ${other.id} is registered at this replica's address too (${this.options.url}): gateways cannot reach both; ` +
          'give each replica its own address with PORTCULLIS_REPLICA_URL',
      );
    }
  }

  private leaseFrom(now: Date): string {
    return new Date(now.getTime() + LEASE_HEARTBEATS * this.options.heartbeatMs).toISOString();
  }

  private async renew(): Promise<void> {
    const now = this.now();
    const renewed = await this.db
      .updateTable('replicas')
      .set({ lease_expires_at: this.leaseFrom(now), url: this.options.url })
      .where('id', '=', this.id)
      .executeTakeFirst();
    if (Number(renewed.numUpdatedRows) === 0) {
      // Deleted while this process was paused past its lease: register again, this replica is alive.
      await this.db
        .insertInto('replicas')
        .values({ id: this.id, url: this.options.url, started_at: now.toISOString(), lease_expires_at: this.leaseFrom(now) })
        .execute();
    }
    await this.db
      .deleteFrom('replicas')
      .where('lease_expires_at', '<', new Date(now.getTime() - FORGET_AFTER_MS).toISOString())
      .execute();
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    const rows = await this.db
      .selectFrom('replicas')
      .select(['id', 'url'])
      .where('lease_expires_at', '>', this.now().toISOString())
      .orderBy('id')
      .execute();
    const list = rows.map((r) => ({ id: r.id, url: r.url }));
    this.warnOfSharedAddress(list);
    // Always itself: its own lease is renewed just above, but its clock may disagree with the row by a moment.
    if (!list.some((r) => r.id === this.id)) list.push({ id: this.id, url: this.options.url });
    const key = (l: ReplicaInfo[]) => l.map((r) => `${r.id} ${r.url}`).join('\n');
    if (key(list) === key(this.liveList)) return;
    this.liveList = list;
    this.emit('changed', list);
  }
}
