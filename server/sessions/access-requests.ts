/**
 * Access requests and grants, for accounts whose policy requires approval (protocol/policy.ts `approvalRequired`).
 *
 * `access` without a grant opens a request (or finds the user's pending one for that account) and answers
 * `{ kind: 'approval' }`; the client waits on `GET /access-requests/:id?wait=…`. An admin of the project other than
 * the requester approves (the request becomes a grant until `grant_expires_at`: every `access` of that user to that
 * account in the time box starts a session at once, each ending by the grant's end at the latest) or denies it. The
 * requester may cancel. Unanswered requests and finished grants expire in the session sweep (or when read). Every
 * step is an audit event; admins are told of new requests, and requesters of decisions, by email when SMTP is set.
 *
 * Every decision is a conditional UPDATE (`where state = 'pending'`), so two admins (or replicas) deciding at once
 * cannot both win.
 */
import type { AccessRequestDto, AccessRequestState, ApproveAccessRequest, DenyAccessRequest, Page } from '../../protocol/api';
import { AUDIT_ACTIONS, type AuditAction, recordAudit } from '../services/audit';
import { projectsOf, roleIn } from '../services/authorization';
import type { Actor, ServiceContext } from '../services/context';
import { DEFAULT_PAGE_SIZE, decodeCursor, pageOf } from '../services/cursor';
import { adminEmails } from '../services/members';
import type { Notifier } from '../services/notices';
import { forbidden, notFound, ServiceError } from '../services/service-error';
import { newId } from '../store/ids';
import type { AccessRequestRow, AccountRow } from '../store/schema';

/** The longest `GET /access-requests/:id?wait=` may hold a request open. */
export const MAX_WAIT_SECONDS = 30;
const WAIT_POLL_MS = 250;

/** The state as of `now`: a pending request or a grant past its end is expired even before the sweep writes so. */
export function effectiveState(row: AccessRequestRow, now: Date): AccessRequestState {
  const t = now.toISOString();
  if (row.state === 'pending' && row.expires_at <= t) return 'expired';
  if (row.state === 'approved' && row.grant_expires_at !== null && row.grant_expires_at <= t) return 'expired';
  return row.state;
}

export function toAccessRequestDto(row: AccessRequestRow, now: Date): AccessRequestDto {
  return {
    id: row.id,
    projectId: row.project_id,
    resourceId: row.resource_id,
    resourceName: row.resource_name,
    accountId: row.account_id,
    accountName: row.account_name,
    requesterUserId: row.requester_user_id,
    requesterEmail: row.requester_email,
    reason: row.reason,
    durationSeconds: row.duration_seconds,
    state: effectiveState(row, now),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    decidedAt: row.decided_at,
    decidedByEmail: row.decided_by_email,
    note: row.note,
    grantExpiresAt: row.grant_expires_at,
    sessions: row.sessions,
  };
}

/** The user's grant for the account that is current now (the latest-ending one), if any. */
export async function findGrant(ctx: ServiceContext, userId: string, accountId: string): Promise<AccessRequestRow | undefined> {
  return ctx.store.db
    .selectFrom('access_requests')
    .selectAll()
    .where('requester_user_id', '=', userId)
    .where('account_id', '=', accountId)
    .where('state', '=', 'approved')
    .where('grant_expires_at', '>', ctx.now().toISOString())
    .orderBy('grant_expires_at', 'desc')
    .executeTakeFirst();
}

/**
 * The user's pending request for the account, or a new one (audited; the project's other admins are told). A second
 * `access` while one is pending joins it rather than filling the admins' inbox.
 */
export async function openAccessRequest(
  ctx: ServiceContext,
  notify: Notifier | undefined,
  actor: Actor,
  account: AccountRow,
  resource: { id: string; name: string },
  reason: string,
  durationSeconds: number,
): Promise<AccessRequestDto> {
  const now = ctx.now();
  const time = now.toISOString();
  const pending = await ctx.store.db
    .selectFrom('access_requests')
    .selectAll()
    .where('requester_user_id', '=', actor.userId)
    .where('account_id', '=', account.id)
    .where('state', '=', 'pending')
    .where('expires_at', '>', time)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  if (pending) return toAccessRequestDto(pending, now);
  const row: AccessRequestRow = {
    id: newId('req_'),
    project_id: account.project_id,
    resource_id: resource.id,
    resource_name: resource.name,
    account_id: account.id,
    account_name: account.name,
    requester_user_id: actor.userId,
    requester_email: actor.email,
    reason,
    duration_seconds: durationSeconds,
    state: 'pending',
    created_at: time,
    expires_at: new Date(now.getTime() + ctx.config.accessRequestTtlSeconds * 1000).toISOString(),
    decided_at: null,
    decided_by_user_id: null,
    decided_by_email: null,
    note: null,
    grant_expires_at: null,
    sessions: 0,
  };
  await ctx.store.transaction(async (trx) => {
    await trx.insertInto('access_requests').values(row).execute();
    await recordAudit(trx, time, {
      projectId: row.project_id,
      actor,
      action: AUDIT_ACTIONS.accessRequestCreated,
      targetType: 'access_request',
      targetId: row.id,
      details: detailsOf(row),
    });
  });
  if (notify) {
    const admins = await adminEmails(ctx, row.project_id, actor.userId);
    if (admins.length > 0) {
      notify({
        to: admins,
        subject: `Portcullis: ${actor.email} asks for access to ${row.resource_name} / ${row.account_name}`,
        text:
          `${actor.email} asks for access to ${row.resource_name} as ${row.account_name} for ${minutes(row.duration_seconds)}.\n\n` +
          `Reason: ${row.reason}\n\n` +
          `Approve: portcullis request approve ${row.id}\n` +
          `Deny:    portcullis request deny ${row.id} --note "why"\n\n` +
          `The request expires unanswered at ${row.expires_at}. Requesters cannot approve their own requests.\n`,
      });
    }
  }
  return toAccessRequestDto(row, now);
}

/** A session starts under the grant: counted on it (the audit event of the session names the grant). */
export async function countGrantSession(ctx: ServiceContext, grantId: string): Promise<void> {
  await ctx.store.db
    .updateTable('access_requests')
    .set((eb) => ({ sessions: eb('sessions', '+', 1) }))
    .where('id', '=', grantId)
    .execute();
}

/** The request when the actor may see it: its requester, or an admin of its project (anyone else: 404). */
async function findVisibleRequest(ctx: ServiceContext, actor: Actor, id: string): Promise<{ row: AccessRequestRow; isAdmin: boolean }> {
  const row = await ctx.store.db.selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('access request');
  const role = await roleIn(ctx, actor.userId, row.project_id);
  if (role === 'admin') return { row, isAdmin: true };
  if (row.requester_user_id === actor.userId) return { row, isAdmin: false };
  throw notFound('access request');
}

/**
 * `GET /access-requests/:id`; with `waitSeconds`, answers as soon as the request is no longer pending, or after that
 * long (at most MAX_WAIT_SECONDS) with it still pending. It reads the database, so a decision made through any
 * replica is seen.
 */
export async function getAccessRequest(
  ctx: ServiceContext,
  actor: Actor,
  id: string,
  waitSeconds = 0,
  cancelled: () => boolean = () => false,
): Promise<AccessRequestDto> {
  let { row } = await findVisibleRequest(ctx, actor, id);
  const deadline = Date.now() + Math.min(waitSeconds, MAX_WAIT_SECONDS) * 1000;
  while (effectiveState(row, ctx.now()) === 'pending' && Date.now() < deadline && !cancelled()) {
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    row = (await ctx.store.db.selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirst()) ?? row;
  }
  return toAccessRequestDto(row, ctx.now());
}

export interface AccessRequestFilters {
  projectId?: string;
  state?: AccessRequestState;
  /** Only the actor's own requests (an admin's inbox otherwise shows everyone's in their projects). */
  mine?: boolean;
  limit?: number;
  cursor?: string;
}

/** Requests the actor may see (every one in the projects they administer, their own elsewhere), newest first. */
export async function listAccessRequests(
  ctx: ServiceContext,
  actor: Actor,
  filters: AccessRequestFilters,
): Promise<Page<AccessRequestDto>> {
  await expireAccessRequests(ctx);
  const limit = filters.limit ?? DEFAULT_PAGE_SIZE;
  let { admin, member } = await projectsOf(ctx, actor.userId);
  if (filters.projectId !== undefined) {
    if (!admin.includes(filters.projectId) && !member.includes(filters.projectId)) throw notFound('project');
    admin = admin.filter((p) => p === filters.projectId);
    member = member.filter((p) => p === filters.projectId);
  }
  if (filters.mine) {
    member = [...member, ...admin];
    admin = [];
  }
  if (admin.length === 0 && member.length === 0) return { items: [] };
  let q = ctx.store.db.selectFrom('access_requests').selectAll();
  q = q.where((eb) => {
    const visible = [];
    if (admin.length > 0) visible.push(eb('project_id', 'in', admin));
    if (member.length > 0) visible.push(eb.and([eb('project_id', 'in', member), eb('requester_user_id', '=', actor.userId)]));
    return eb.or(visible);
  });
  if (filters.state !== undefined) q = q.where('state', '=', filters.state);
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
    (r) => toAccessRequestDto(r, now),
    (r) => [r.created_at, r.id],
  );
}

type Decision = { kind: 'approve'; input: ApproveAccessRequest } | { kind: 'deny'; input: DenyAccessRequest } | { kind: 'cancel' };

/** `POST /access-requests/:id/approve|deny|cancel`. */
export async function decideAccessRequest(
  ctx: ServiceContext,
  notify: Notifier | undefined,
  actor: Actor,
  id: string,
  decision: Decision,
): Promise<AccessRequestDto> {
  const { row, isAdmin } = await findVisibleRequest(ctx, actor, id);
  const own = row.requester_user_id === actor.userId;
  if (decision.kind === 'cancel') {
    if (!own) throw forbidden('only the requester can cancel a request; an admin denies it (portcullis request deny)');
  } else {
    if (!isAdmin) throw forbidden('only a project admin can approve or deny access requests');
    if (own) {
      throw new ServiceError(
        'self_approval',
        'you cannot decide your own access request: another admin of the project must approve or deny it',
      );
    }
  }
  const now = ctx.now();
  const time = now.toISOString();
  const state = effectiveState(row, now);
  if (state !== 'pending') throw notPending(row, state);

  const note = decision.kind === 'cancel' ? null : decision.input.note?.trim() || null;
  const seconds =
    decision.kind === 'approve'
      ? Math.min(row.duration_seconds, decision.input.durationSeconds ?? row.duration_seconds)
      : row.duration_seconds;
  const next: Pick<AccessRequestRow, 'state' | 'decided_at' | 'decided_by_user_id' | 'decided_by_email' | 'note' | 'grant_expires_at'> = {
    state: decision.kind === 'approve' ? 'approved' : decision.kind === 'deny' ? 'denied' : 'cancelled',
    decided_at: time,
    decided_by_user_id: actor.userId,
    decided_by_email: actor.email,
    note,
    grant_expires_at: decision.kind === 'approve' ? new Date(now.getTime() + seconds * 1000).toISOString() : null,
  };
  const action: AuditAction =
    decision.kind === 'approve'
      ? AUDIT_ACTIONS.accessRequestApproved
      : decision.kind === 'deny'
        ? AUDIT_ACTIONS.accessRequestDenied
        : AUDIT_ACTIONS.accessRequestCancelled;
  const won = await ctx.store.transaction(async (trx) => {
    const updated = await trx
      .updateTable('access_requests')
      .set({ ...next, duration_seconds: seconds })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .where('expires_at', '>', time)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return false;
    await recordAudit(trx, time, {
      projectId: row.project_id,
      actor,
      action,
      targetType: 'access_request',
      targetId: id,
      details: { ...detailsOf({ ...row, duration_seconds: seconds }), note, grantExpiresAt: next.grant_expires_at },
    });
    return true;
  });
  const after = await ctx.store.db.selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  // Someone else decided (or it expired) between the read and the update.
  if (!won) throw notPending(after, effectiveState(after, ctx.now()));
  if (notify && decision.kind !== 'cancel') {
    const verb = decision.kind === 'approve' ? 'approved' : 'denied';
    notify({
      to: [row.requester_email],
      subject: `Portcullis: your access to ${row.resource_name} / ${row.account_name} was ${verb}`,
      text:
        `${actor.email} ${verb} your request ${row.id} for ${row.resource_name} as ${row.account_name}.\n` +
        (note ? `\nNote: ${note}\n` : '') +
        (decision.kind === 'approve'
          ? `\nYou may start sessions until ${next.grant_expires_at}: portcullis access --resource ${row.resource_name} --account ${row.account_name}\n`
          : ''),
    });
  }
  return toAccessRequestDto(after, ctx.now());
}

function notPending(row: AccessRequestRow, state: AccessRequestState): ServiceError {
  const by = row.decided_by_email ? ` by ${row.decided_by_email}` : '';
  return new ServiceError(
    'request_not_pending',
    `the access request ${row.id} is ${state}${state === 'expired' ? '' : by}; it can no longer be decided`,
  );
}

/**
 * Writes `expired` on pending requests past their deadline and grants past their end, with an audit event each. Run
 * by the session sweep and before listing; each row is taken by one UPDATE, so concurrent callers audit it once.
 */
export async function expireAccessRequests(ctx: ServiceContext): Promise<number> {
  const time = ctx.now().toISOString();
  let expired = 0;
  for (const [from, column, action] of [
    ['pending', 'expires_at', AUDIT_ACTIONS.accessRequestExpired],
    ['approved', 'grant_expires_at', AUDIT_ACTIONS.accessGrantExpired],
  ] as const) {
    const due = await ctx.store.db
      .selectFrom('access_requests')
      .selectAll()
      .where('state', '=', from)
      .where(column, '<=', time)
      .limit(500)
      .execute();
    for (const row of due) {
      const taken = await ctx.store.transaction(async (trx) => {
        const updated = await trx
          .updateTable('access_requests')
          .set({ state: 'expired' })
          .where('id', '=', row.id)
          .where('state', '=', from)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) return false;
        await recordAudit(trx, time, {
          projectId: row.project_id,
          actor: null,
          action,
          targetType: 'access_request',
          targetId: row.id,
          details: { ...detailsOf(row), sessions: row.sessions },
        });
        return true;
      });
      if (taken) expired++;
    }
  }
  return expired;
}

function detailsOf(row: AccessRequestRow): Record<string, unknown> {
  return {
    resourceName: row.resource_name,
    accountName: row.account_name,
    requesterEmail: row.requester_email,
    reason: row.reason,
    seconds: row.duration_seconds,
  };
}

function minutes(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${Math.round(seconds / 60)} min`;
}
