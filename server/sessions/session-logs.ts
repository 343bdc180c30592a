/**
 * Session log events: stored idempotently as gateways upload them (a batch sent twice is stored once), counted
 * into the session's commands, and served back in the order they arrived.
 */
import type { SessionLogPage } from '../../protocol/api';
import type { LogBatch } from '../../protocol/gateway-channel';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import type { ServiceContext } from '../services/context';
import { DEFAULT_PAGE_SIZE, decodeCursor, pageOf } from '../services/cursor';
import { insertSessionLogBatch } from '../store/session-log-events';

export interface AppendLogResult {
  /** Events stored now (not counting ones already stored by an earlier upload of the same batch). */
  stored: number;
  /** Why nothing was stored, when the batch was refused. Acknowledge it anyway: resending will not help. */
  refused?: string;
  /** This batch brought the session's first high-severity flag (admins may be emailed, once per session). */
  firstHighFlag?: boolean;
}

export async function appendLogBatch(ctx: ServiceContext, batch: LogBatch, gatewayId?: string): Promise<AppendLogResult> {
  const session = await ctx.store.db
    .selectFrom('sessions')
    .select(['id', 'gateway_id', 'state'])
    .where('id', '=', batch.sessionId)
    .executeTakeFirst();
  if (!session) return { stored: 0, refused: `no session ${batch.sessionId}` };
  if (gatewayId !== undefined && session.gateway_id !== gatewayId)
    return { stored: 0, refused: 'the session is not assigned to this gateway' };
  const events = batch.events.filter(isStorable);
  if (events.length === 0) return { stored: 0 };
  const time = ctx.now().toISOString();
  return ctx.store.transaction(async (trx) => {
    const { inserted: stored, commands, flags, highFlags } = await insertSessionLogBatch(trx, { ...batch, events });
    if (stored > 0) {
      let update = trx.updateTable('sessions').where('id', '=', batch.sessionId);
      update = commands > 0 ? update.set((eb) => ({ commands: eb('commands', '+', commands) })) : update;
      if (flags > 0) {
        update = update.set((eb) => ({ flag_count: eb('flag_count', '+', flags), high_flag_count: eb('high_flag_count', '+', highFlags) }));
      }
      if (session.state === 'active') update = update.set({ last_activity_at: time });
      if (commands > 0 || flags > 0 || session.state === 'active') {
        const after = await update.returning('high_flag_count').executeTakeFirst();
        // Counted in the same UPDATE, so of two batches stored at once only one sees the count go up from zero.
        if (highFlags > 0 && after?.high_flag_count === highFlags) return { stored, firstHighFlag: true };
      }
    }
    return { stored };
  });
}

function isStorable(event: LogBatch['events'][number]): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    Number.isSafeInteger(event.seq) &&
    event.seq >= 0 &&
    (event.kind === 'command' || event.kind === 'connection') &&
    typeof event.time === 'string' &&
    typeof event.connectionId === 'string'
  );
}

/** Raises the session's connection count to what the gateway reports (never lowers it). */
export async function recordStats(
  ctx: ServiceContext,
  sessionId: string,
  stats: { connections: number; commands?: number },
  /** The reporting gateway: a gateway may only report on its own sessions. */
  gatewayId?: string,
): Promise<void> {
  let update = ctx.store.db
    .updateTable('sessions')
    .set({ connections: Math.max(0, Math.floor(stats.connections)) })
    .where('id', '=', sessionId)
    .where('connections', '<', Math.floor(stats.connections));
  if (gatewayId !== undefined) update = update.where('gateway_id', '=', gatewayId);
  await update.execute();
}

export async function listSessionLogs(
  ctx: ServiceContext,
  sessionId: string,
  query: { limit?: number; cursor?: string },
  /** Admins of the session's project see `detail` (internal addresses); everyone else does not. */
  view: { includeDetail: boolean } = { includeDetail: false },
): Promise<SessionLogPage> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE * 4;
  let q = ctx.store.db.selectFrom('session_log_events').select(['id', 'seq', 'data']).where('session_id', '=', sessionId);
  if (query.cursor) {
    const [after] = decodeCursor(query.cursor, ['n']) as [number];
    q = q.where('id', '>', after);
  }
  const rows = await q
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  return pageOf(
    rows,
    limit,
    (r) => {
      const event = { ...(JSON.parse(r.data) as object), sessionId, seq: r.seq } as StoredSessionLogEvent;
      if (!view.includeDetail && 'detail' in event) delete event.detail;
      return event;
    },
    (r) => [r.id],
  );
}
