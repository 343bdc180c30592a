/** Reading sessions: their public shape, who may see which, and the filtered, paginated list. */

import type { Page, SessionDto, SessionState } from '../../protocol/api';
import type { RiskFlagId } from '../../protocol/session-log';
import { projectsOf, roleIn } from '../services/authorization';
import type { Actor, ServiceContext } from '../services/context';
import { DEFAULT_PAGE_SIZE, decodeCursor, pageOf } from '../services/cursor';
import { notFound } from '../services/service-error';
import type { SessionRow } from '../store/schema';

export function toSessionDto(row: SessionRow, now: Date): SessionDto {
  const start = Date.parse(row.started_at ?? row.created_at);
  const end = row.ended_at ? Date.parse(row.ended_at) : now.getTime();
  return {
    id: row.id,
    projectId: row.project_id,
    userId: row.user_id,
    userEmail: row.user_email,
    resourceId: row.resource_id,
    resourceName: row.resource_name,
    accountId: row.account_id,
    accountName: row.account_name,
    gatewayId: row.gateway_id,
    state: row.state,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    expiresAt: row.expires_at,
    durationSeconds: Math.max(0, Math.round((end - start) / 1000)),
    endReason: row.end_reason,
    endedBy: row.ended_by,
    clientAddress: row.client_address,
    clientAgent: row.client_agent,
    mfaMethod: row.mfa_method,
    reason: row.reason,
    flagCount: row.flag_count,
    highFlagCount: row.high_flag_count,
    accessRequestId: row.access_request_id,
    connections: row.connections,
    commands: row.commands,
  };
}

export function findSession(ctx: ServiceContext, id: string): Promise<SessionRow | undefined> {
  return ctx.store.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * The session when the actor may see it: its own user, or an admin of its project. Anyone else gets 404
 * (members see only their own sessions, and outsiders do not learn that a session exists).
 */
export async function findVisibleSession(ctx: ServiceContext, actor: Actor, id: string): Promise<{ row: SessionRow; isAdmin: boolean }> {
  const row = await findSession(ctx, id);
  if (!row) throw notFound('session');
  const role = await roleIn(ctx, actor.userId, row.project_id);
  if (role === 'admin') return { row, isAdmin: true };
  if (row.user_id === actor.userId) return { row, isAdmin: false };
  throw notFound('session');
}

export interface SessionFilters {
  /** Only sessions with a command flagged so (protocol/session-log.ts RISK_FLAG_IDS). */
  flag?: RiskFlagId;
  projectId?: string;
  resourceId?: string;
  accountId?: string;
  userId?: string;
  state?: SessionState;
  /** Created at or after (ISO time). */
  from?: string;
  /** Created before (ISO time). */
  to?: string;
  limit?: number;
  cursor?: string;
}

/** Sessions the actor may see (all of the projects they administer, their own elsewhere), newest first. */
export async function listSessions(ctx: ServiceContext, actor: Actor, filters: SessionFilters): Promise<Page<SessionDto>> {
  const limit = filters.limit ?? DEFAULT_PAGE_SIZE;
  let { admin, member } = await projectsOf(ctx, actor.userId);
  if (filters.projectId !== undefined) {
    if (!admin.includes(filters.projectId) && !member.includes(filters.projectId)) throw notFound('project');
    admin = admin.filter((p) => p === filters.projectId);
    member = member.filter((p) => p === filters.projectId);
  }
  if (admin.length === 0 && member.length === 0) return { items: [] };
  let q = ctx.store.db.selectFrom('sessions').selectAll();
  q = q.where((eb) => {
    const visible = [];
    if (admin.length > 0) visible.push(eb('project_id', 'in', admin));
    if (member.length > 0) visible.push(eb.and([eb('project_id', 'in', member), eb('user_id', '=', actor.userId)]));
    return eb.or(visible);
  });
  if (filters.resourceId !== undefined) q = q.where('resource_id', '=', filters.resourceId);
  if (filters.accountId !== undefined) q = q.where('account_id', '=', filters.accountId);
  if (filters.userId !== undefined) q = q.where('user_id', '=', filters.userId);
  if (filters.state !== undefined) q = q.where('state', '=', filters.state);
  if (filters.flag !== undefined) {
    const flag = filters.flag;
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('session_flags')
          .select('session_flags.event_id')
          .whereRef('session_flags.session_id', '=', 'sessions.id')
          .where('session_flags.flag', '=', flag),
      ),
    );
  }
  if (filters.from !== undefined) q = q.where('created_at', '>=', new Date(filters.from).toISOString());
  if (filters.to !== undefined) q = q.where('created_at', '<', new Date(filters.to).toISOString());
  if (filters.cursor) {
    const [created, id] = decodeCursor(filters.cursor, ['s', 's']) as [string, string];
    q = q.where((eb) => eb.or([eb('created_at', '<', created), eb.and([eb('created_at', '=', created), eb('id', '<', id)])]));
  }
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const now = ctx.now();
  return pageOf(
    rows,
    limit,
    (r) => toSessionDto(r, now),
    (r) => [r.created_at, r.id],
  );
}
