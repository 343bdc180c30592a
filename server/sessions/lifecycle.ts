/**
 * How sessions end: stop by their user, termination by an admin, expiry, idle timeout, their gateway going
 * offline. Each end is one conditional UPDATE (only an active session can end), so it happens once and the
 * `ended` event fires once on the replica that ended it; other replicas sharing the database hear of it through
 * `announce` (server/replicas/replica-events.ts) and `endedElsewhere`, and every few seconds compare the sessions
 * whose streams they carry against the database, in case a notification was lost.
 *
 * Idle is decided from the database: `last_activity_at`, which the replicas carrying a session's streams keep
 * fresh while a connection is open (even a quiet one) or data flows, and which the ending UPDATE checks again.
 * A replica that never saw the session's streams therefore cannot end it while another one carries them.
 */

import { EventEmitter } from 'node:events';
import type { SessionDto, SessionEndReason, SessionState } from '../../protocol/api';
import { AUDIT_ACTIONS, recordAudit } from '../services/audit';
import { requireRole } from '../services/authorization';
import type { Actor, ServiceContext } from '../services/context';
import { forbidden, ServiceError } from '../services/service-error';
import { expireAccessRequests } from './access-requests';
import { findSession, findVisibleSession, toSessionDto } from './session-queries';

const STATE_OF_REASON: Readonly<Record<SessionEndReason, SessionState>> = Object.freeze({
  stopped: 'ended',
  idle: 'ended',
  gateway_offline: 'ended',
  expired: 'expired',
  terminated: 'terminated',
  failed: 'failed',
});

export const SWEEP_INTERVAL_MS = 1000;
/** How often the sessions with streams here are compared against the database (ends a notification missed). */
const RECONCILE_INTERVAL_MS = 2000;
/** last_activity_at is written at most this often per session (and at most a quarter of the idle timeout). */
const MAX_ACTIVITY_WRITE_INTERVAL_MS = 15_000;

export interface SessionLifecycleEvents {
  /** The session ended, here or on another replica: cut its streams. */
  ended: [sessionId: string, reason: SessionEndReason, gatewayId: string];
}

export interface SessionLifecycleOptions {
  /** Tells the other replicas that a session ended here (server/replicas/replica-events.ts). */
  announce?(sessionId: string, reason: SessionEndReason, gatewayId: string): Promise<void>;
}

interface LiveSession {
  open: number;
  lastActivityMs: number;
  lastWrittenMs: number;
}

export class SessionLifecycle extends EventEmitter<SessionLifecycleEvents> {
  /** Sessions with streams on this replica (or traffic recently): what keeps them from going idle. */
  private readonly live = new Map<string, LiveSession>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private lastReconciledMs = 0;
  private readonly activityWriteIntervalMs: number;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly options: SessionLifecycleOptions = {},
  ) {
    super();
    this.activityWriteIntervalMs = Math.min(MAX_ACTIVITY_WRITE_INTERVAL_MS, (ctx.config.idleTimeoutSeconds * 1000) / 4);
  }

  /**
   * Starts the once-a-second work: activity of this replica's open streams to the database, ends missed from
   * other replicas, and (one replica at a time) the sweep for expired and idle sessions.
   */
  start(): void {
    this.timer ??= setInterval(() => void this.tick().catch(() => {}), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  stopSweeper(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Ends an active session. Returns false when it was not active (already ended, or unknown).
   * `endedBy` is the email of the person who ended it, or null for the system.
   */
  async end(sessionId: string, reason: SessionEndReason, endedBy: string | null = null): Promise<boolean> {
    return this.endIf(sessionId, reason, endedBy);
  }

  /** `end`, only while the session has had no activity since `quietSince` (checked in the UPDATE itself). */
  private async endIf(sessionId: string, reason: SessionEndReason, endedBy: string | null, quietSince?: string): Promise<boolean> {
    const row = await findSession(this.ctx, sessionId);
    if (!row || (row.state !== 'active' && row.state !== 'starting')) return false;
    let update = this.ctx.store.db
      .updateTable('sessions')
      .set({ state: STATE_OF_REASON[reason], end_reason: reason, ended_at: this.ctx.now().toISOString(), ended_by: endedBy })
      .where('id', '=', sessionId)
      .where('state', 'in', ['active', 'starting']);
    // Another replica may have written activity since the sweep read the row.
    if (quietSince !== undefined) update = update.where('last_activity_at', '<=', quietSince);
    const result = await update.executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    this.endedElsewhere(sessionId, reason, row.gateway_id);
    await this.options.announce?.(sessionId, reason, row.gateway_id);
    return true;
  }

  /** A session ended (on another replica, or found ended in the database): forget it here and cut its streams. */
  endedElsewhere(sessionId: string, reason: SessionEndReason, gatewayId: string): void {
    this.live.delete(sessionId);
    try {
      this.emit('ended', sessionId, reason, gatewayId);
    } catch {
      // A listener's failure must not undo or hide the end itself.
    }
  }

  /**
   * Compares the sessions whose streams this replica carries against the database, and acts on those that ended
   * elsewhere without this replica hearing of it (a lost notification, a listener that reconnected).
   */
  async reconcile(): Promise<void> {
    this.lastReconciledMs = Date.now();
    const ids = [...this.live.keys()];
    for (let i = 0; i < ids.length; i += 500) {
      const ended = await this.ctx.store.db
        .selectFrom('sessions')
        .select(['id', 'end_reason', 'gateway_id'])
        .where('id', 'in', ids.slice(i, i + 500))
        .where('state', 'not in', ['active', 'starting'])
        .execute();
      for (const row of ended) if (this.live.has(row.id)) this.endedElsewhere(row.id, row.end_reason ?? 'stopped', row.gateway_id);
    }
  }

  /** `POST /sessions/:id/stop`: only the session's own user. */
  async stopByUser(actor: Actor, sessionId: string): Promise<SessionDto> {
    const { row } = await findVisibleSession(this.ctx, actor, sessionId);
    if (row.user_id !== actor.userId) throw forbidden('only the user of a session can stop it; an admin terminates it instead');
    if (!(await this.end(sessionId, 'stopped', actor.email)) && row.state === 'active') {
      throw new ServiceError('session_not_active', 'the session ended while you stopped it');
    }
    return this.dto(sessionId);
  }

  /** `POST /sessions/:id/terminate`: an admin of the session's project. Audited. */
  async terminate(actor: Actor, sessionId: string): Promise<SessionDto> {
    const row = await findSession(this.ctx, sessionId);
    if (!row) throw new ServiceError('not_found', 'session not found');
    await requireRole(this.ctx, actor, row.project_id, 'admin', 'session');
    if (!(await this.end(sessionId, 'terminated', actor.email))) {
      throw new ServiceError('session_not_active', `the session is already over (${row.state})`);
    }
    await recordAudit(this.ctx.store.db, this.ctx.now().toISOString(), {
      projectId: row.project_id,
      actor,
      action: AUDIT_ACTIONS.sessionTerminated,
      targetType: 'session',
      targetId: sessionId,
      details: { userEmail: row.user_email, resourceName: row.resource_name, accountName: row.account_name },
    });
    return this.dto(sessionId);
  }

  /** Ends (as terminated) the active sessions of a deleted resource or account, or of a member removed from a project. */
  async endSessionsOf(
    filter: { resourceId?: string; accountId?: string; projectId?: string; userId?: string },
    endedBy: string,
  ): Promise<void> {
    if (Object.values(filter).every((v) => v === undefined)) return;
    let q = this.ctx.store.db.selectFrom('sessions').select('id').where('state', '=', 'active');
    if (filter.resourceId) q = q.where('resource_id', '=', filter.resourceId);
    if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
    if (filter.projectId) q = q.where('project_id', '=', filter.projectId);
    if (filter.userId) q = q.where('user_id', '=', filter.userId);
    for (const { id } of await q.execute()) await this.end(id, 'terminated', endedBy);
  }

  /** The relay calls this once a gateway has been gone longer than its grace period. */
  async gatewayWentOffline(gatewayId: string): Promise<string[]> {
    const rows = await this.ctx.store.db
      .selectFrom('sessions')
      .select('id')
      .where('gateway_id', '=', gatewayId)
      .where('state', '=', 'active')
      .execute();
    const ended: string[] = [];
    for (const { id } of rows) if (await this.end(id, 'gateway_offline')) ended.push(id);
    return ended;
  }

  /** Traffic on the session (relay): keeps it from going idle. Cheap; writes to the store now and then. */
  touch(sessionId: string): void {
    const live = this.liveOf(sessionId);
    live.lastActivityMs = this.ctx.now().getTime();
    if (live.lastActivityMs - live.lastWrittenMs >= this.activityWriteIntervalMs) void this.writeActivity(sessionId, live);
  }

  /** A relay stream of the session opened: counted in `connections`; the session is not idle while one is open. */
  connectionOpened(sessionId: string): void {
    const live = this.liveOf(sessionId);
    live.open += 1;
    live.lastActivityMs = this.ctx.now().getTime();
    void this.ctx.store.db
      .updateTable('sessions')
      .set((eb) => ({ connections: eb('connections', '+', 1), last_activity_at: this.ctx.now().toISOString() }))
      .where('id', '=', sessionId)
      .execute()
      .catch(() => {});
  }

  connectionClosed(sessionId: string): void {
    const live = this.live.get(sessionId);
    if (!live) return;
    live.open = Math.max(0, live.open - 1);
    live.lastActivityMs = this.ctx.now().getTime();
    void this.writeActivity(sessionId, live);
  }

  /** Open relay streams of a session, as counted from connectionOpened/Closed. */
  openConnections(sessionId: string): number {
    return this.live.get(sessionId)?.open ?? 0;
  }

  /** One second's work (see `start`). */
  private async tick(): Promise<void> {
    await this.keepOpenSessionsActive();
    if (Date.now() - this.lastReconciledMs >= RECONCILE_INTERVAL_MS) await this.reconcile();
    await this.sweep();
  }

  /**
   * A session with a connection open here is active even when nothing flows: its last_activity_at is kept fresh in
   * the database, where every replica's idle sweep reads it.
   */
  private async keepOpenSessionsActive(): Promise<void> {
    const nowMs = this.ctx.now().getTime();
    const due: string[] = [];
    for (const [id, live] of this.live) {
      if (live.open > 0 && nowMs - live.lastWrittenMs >= this.activityWriteIntervalMs) {
        live.lastWrittenMs = nowMs;
        due.push(id);
      }
    }
    if (due.length === 0) return;
    await this.ctx.store.db
      .updateTable('sessions')
      .set({ last_activity_at: new Date(nowMs).toISOString() })
      .where('id', 'in', due)
      .where('state', '=', 'active')
      .execute();
  }

  /**
   * One pass, on one replica at a time: active sessions past their expiry end as `expired`; those with no activity
   * in the database for the idle timeout end as `ended`/`idle`.
   */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      await this.ctx.store.exclusively('session-sweep', () => this.sweepNow());
    } finally {
      this.sweeping = false;
    }
  }

  private async sweepNow(): Promise<void> {
    const now = this.ctx.now();
    const expired = await this.ctx.store.db
      .selectFrom('sessions')
      .select('id')
      .where('state', '=', 'active')
      .where('expires_at', '<=', now.toISOString())
      .execute();
    for (const { id } of expired) await this.end(id, 'expired');
    const cutoff = new Date(now.getTime() - this.ctx.config.idleTimeoutSeconds * 1000).toISOString();
    const quiet = await this.ctx.store.db
      .selectFrom('sessions')
      .select('id')
      .where('state', '=', 'active')
      .where('last_activity_at', '<=', cutoff)
      .execute();
    for (const { id } of quiet) {
      const live = this.live.get(id);
      if (live && (live.open > 0 || live.lastActivityMs > Date.parse(cutoff))) {
        await this.writeActivity(id, live);
        continue;
      }
      await this.endIf(id, 'idle', null, cutoff);
    }
    // Access requests nobody answered and grants whose time is up (audited as they expire).
    await expireAccessRequests(this.ctx);
  }

  private liveOf(sessionId: string): LiveSession {
    let live = this.live.get(sessionId);
    if (!live) {
      live = { open: 0, lastActivityMs: this.ctx.now().getTime(), lastWrittenMs: 0 };
      this.live.set(sessionId, live);
    }
    return live;
  }

  private async writeActivity(sessionId: string, live: LiveSession): Promise<void> {
    const at = live.open > 0 ? this.ctx.now().getTime() : live.lastActivityMs;
    live.lastWrittenMs = this.ctx.now().getTime();
    await this.ctx.store.db
      .updateTable('sessions')
      .set({ last_activity_at: new Date(at).toISOString() })
      .where('id', '=', sessionId)
      .where('state', '=', 'active')
      .execute()
      .catch(() => {});
  }

  private async dto(sessionId: string): Promise<SessionDto> {
    return toSessionDto((await findSession(this.ctx, sessionId))!, this.ctx.now());
  }
}
