/**
 * The audit trail: who changed what, when. Details never hold a secret: callers pass names and flags,
 * and `recordAudit` drops any key that looks like one as a second line of defence.
 */
import type { Kysely } from 'kysely';
import type { AuditEventDto, Page } from '../../protocol/api';
import { newId } from '../store/ids';
import type { AuditEventRow, Database } from '../store/schema';
import type { Actor, ServiceContext } from './context';
import { DEFAULT_PAGE_SIZE, decodeCursor, pageOf } from './cursor';

export const AUDIT_ACTIONS = Object.freeze({
  signInSucceeded: 'auth.sign_in.succeeded',
  signInFailed: 'auth.sign_in.failed',
  projectCreated: 'project.created',
  memberAdded: 'member.added',
  memberUpdated: 'member.updated',
  memberRemoved: 'member.removed',
  enrollmentTokenCreated: 'gateway.enrollment_token.created',
  gatewayEnrolled: 'gateway.enrolled',
  gatewayDeleted: 'gateway.deleted',
  gatewayTunnelKeyChanged: 'gateway.tunnel_key.changed',
  resourceCreated: 'resource.created',
  resourceUpdated: 'resource.updated',
  resourceDeleted: 'resource.deleted',
  accountCreated: 'account.created',
  accountUpdated: 'account.updated',
  accountDeleted: 'account.deleted',
  resourceConnectionTested: 'resource.connection_tested',
  accountConnectionTested: 'account.connection_tested',
  sessionStarted: 'session.started',
  sessionTerminated: 'session.terminated',
  mfaChallengeIssued: 'mfa.challenge.issued',
  mfaChallengePassed: 'mfa.challenge.passed',
  mfaChallengeFailed: 'mfa.challenge.failed',
  mfaTotpEnrolled: 'mfa.totp.enrolled',
  mfaTotpRemoved: 'mfa.totp.removed',
  mfaPolicyChanged: 'mfa.policy.changed',
  accessRequestCreated: 'access_request.created',
  accessRequestApproved: 'access_request.approved',
  accessRequestDenied: 'access_request.denied',
  accessRequestCancelled: 'access_request.cancelled',
  accessRequestExpired: 'access_request.expired',
  accessGrantExpired: 'access_grant.expired',
} as const);
export type AuditAction = (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS];

export interface AuditEntry {
  projectId: string | null;
  actor: Actor | null;
  action: AuditAction;
  targetType: string;
  targetId: string | null;
  details?: Record<string, unknown>;
}

const SECRET_KEY = /^(password|secret|token|credential|caCertificate|privateKey|key)$/i;

export async function recordAudit(db: Kysely<Database>, time: string, entry: AuditEntry): Promise<void> {
  const details = Object.fromEntries(Object.entries(entry.details ?? {}).filter(([k]) => !SECRET_KEY.test(k)));
  await db
    .insertInto('audit_events')
    .values({
      id: newId('aud_'),
      project_id: entry.projectId,
      actor_user_id: entry.actor?.userId ?? null,
      actor_email: entry.actor?.email ?? null,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      details: JSON.stringify(details),
      time,
    })
    .execute();
}

export function toAuditEventDto(row: AuditEventRow): AuditEventDto {
  return {
    id: row.id,
    projectId: row.project_id,
    actorUserId: row.actor_user_id,
    actorEmail: row.actor_email,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    details: JSON.parse(row.details) as Record<string, unknown>,
    time: row.time,
  };
}

/** A project's audit events, newest first. The caller has checked that the actor is an admin of it. */
export async function listAudit(
  ctx: ServiceContext,
  projectId: string,
  query: { limit?: number; cursor?: string; action?: string },
): Promise<Page<AuditEventDto>> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  let q = ctx.store.db.selectFrom('audit_events').selectAll().where('project_id', '=', projectId);
  if (query.action) q = q.where('action', '=', query.action);
  if (query.cursor) {
    const [time, id] = decodeCursor(query.cursor, ['s', 's']) as [string, string];
    q = q.where((eb) => eb.or([eb('time', '<', time), eb.and([eb('time', '=', time), eb('id', '<', id)])]));
  }
  const rows = await q
    .orderBy('time', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  return pageOf(rows, limit, toAuditEventDto, (r) => [r.time, r.id]);
}
