/**
 * `POST /accounts/:id/access`: membership, gateway online, MFA, duration cap, then a new active session and
 * a relay ticket. Also fresh tickets for a running session, and checking a ticket for the relay.
 */
import type { KeyObject } from 'node:crypto';
import type { AccessRequest, AccessResponse, MfaMethod, RelayTicketDto } from '../../protocol/api';
import { issueSessionCertificate, parseSessionPublicKey } from '../../tunnel/certificates';
import { certificateFingerprint } from '../../tunnel/fingerprint';
import { policyOf } from '../services/accounts';
import { AUDIT_ACTIONS, recordAudit } from '../services/audit';
import { requireRole } from '../services/authorization';
import type { Actor, ServiceContext } from '../services/context';
import { isGatewayOnline } from '../services/gateways';
import type { Notifier } from '../services/notices';
import { ServiceError } from '../services/service-error';
import { fromFlag } from '../store/flags';
import { newId } from '../store/ids';
import type { SessionRow } from '../store/schema';
import { tunnelCaFor } from '../tunnel/tunnel-ca';
import { countGrantSession, findGrant, openAccessRequest } from './access-requests';
import type { MfaProvider } from './mfa';
import { checkRelayTicket, issueRelayTicket } from './relay-ticket';
import { findSession, findVisibleSession, toSessionDto } from './session-queries';

export interface AccessDeps {
  ctx: ServiceContext;
  /** HMAC key of relay tickets (deriveKey(rootKey, 'relay-ticket')). */
  ticketKey: Buffer;
  mfa?: MfaProvider;
  /** Delivers notices (email) of access requests, decisions and risk alerts; without it, admins see requests in their inbox only. */
  notify?: Notifier;
}

export interface AccessClient {
  address: string | null;
  /** ws:// or wss:// URL of the relay endpoint, as this client reaches the server. */
  relayUrl: string;
}

/** The duration a session gets: the request (or the default), capped by the account and the server. */
export function grantedSeconds(
  requested: number | undefined,
  accountMax: number,
  defaults: { defaultSeconds: number; capSeconds: number },
): number {
  return Math.max(1, Math.min(requested ?? defaults.defaultSeconds, accountMax, defaults.capSeconds));
}

/**
 * The identity provider's MFA stands in for Portcullis's own when the admin accepts it (PORTCULLIS_SSO_ACCEPT_IDP_MFA),
 * the sign-in token came from a single sign-on where the provider asserted MFA (amr/acr) recently enough, and the
 * project does not enforce a method of its own (an admin who enforces TOTP or email gets that).
 */
function idpMfaCounts(ctx: ServiceContext, actor: AccessActor, enforced: MfaMethod | null): boolean {
  const sso = ctx.config.sso;
  if (!sso?.acceptIdpMfa || !actor.idpMfaAt || enforced !== null) return false;
  return ctx.now().getTime() - Date.parse(actor.idpMfaAt) <= sso.mfaMaxAgeSeconds * 1000;
}

/** The user asking, and (for a single sign-on) when their identity provider asserted MFA. */
export type AccessActor = Actor & { idpMfaAt?: string | null };

export async function requestAccess(
  deps: AccessDeps,
  actor: AccessActor,
  accountId: string,
  request: AccessRequest,
  client: AccessClient,
): Promise<AccessResponse> {
  const { ctx } = deps;
  const db = ctx.store.db;
  const account = await db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
  if (!account) throw new ServiceError('not_found', 'account not found');
  await requireRole(ctx, actor, account.project_id, 'member', 'account');
  const resource = await db
    .selectFrom('resources')
    .innerJoin('gateways', 'gateways.id', 'resources.gateway_id')
    .select([
      'resources.id',
      'resources.name',
      'resources.gateway_id',
      'gateways.name as gateway_name',
      'gateways.connected',
      'gateways.last_seen_at',
      'gateways.tunnel_fingerprint',
    ])
    .where('resources.id', '=', account.resource_id)
    .executeTakeFirstOrThrow();
  if (!isGatewayOnline(ctx, resource)) {
    throw new ServiceError(
      'gateway_offline',
      `the gateway ${resource.gateway_name} of ${resource.name} is offline: ask an admin to start it, then try again`,
    );
  }
  const gatewayFingerprint = resource.tunnel_fingerprint;
  if (!gatewayFingerprint) {
    throw new ServiceError(
      'gateway_offline',
      `the gateway ${resource.gateway_name} of ${resource.name} has not presented its tunnel key yet (it runs a version without end-to-end encryption): ask an admin to update and restart it`,
    );
  }
  // Checked before anything is asked of the user: a client that cannot encrypt cannot use a session.
  const tunnelKey = sessionPublicKey(request.tunnelPublicKey);
  // Before MFA: a user without a reason (or without approval) is told so before being asked for a code.
  const policy = policyOf(account);
  let reason = request.reason?.trim() || null;
  const seconds = grantedSeconds(request.durationSeconds, account.max_session_seconds, {
    defaultSeconds: ctx.config.defaultSessionSeconds,
    capSeconds: ctx.config.maxSessionSecondsCap,
  });
  let grant: Awaited<ReturnType<typeof findGrant>>;
  if (policy.approvalRequired) {
    grant = await findGrant(ctx, actor.userId, account.id);
    if (!grant) {
      if (!reason) {
        throw new ServiceError(
          'reason_required',
          `the account ${account.name} requires an admin's approval: say why you need it (portcullis access --reason "…"), and a request goes to the project's admins`,
        );
      }
      const pending = await openAccessRequest(ctx, deps.notify, actor, account, resource, reason, seconds);
      return { kind: 'approval', request: pending };
    }
    // Sessions under a grant carry its reason unless they give their own.
    reason ??= grant.reason;
  }
  if (policy.reasonRequired && !reason) {
    throw new ServiceError(
      'reason_required',
      `the account ${account.name} requires a reason for access: say why you need it (portcullis access --reason "…")`,
    );
  }
  const project = await db
    .selectFrom('projects')
    .select('mfa_enforced_method')
    .where('id', '=', account.project_id)
    .executeTakeFirstOrThrow();
  let mfaMethod: SessionRow['mfa_method'] = null;
  // The project's enforced method chooses HOW MFA is done; whether it is done is the account's setting.
  if (fromFlag(account.mfa_required)) {
    if (!deps.mfa) {
      // Never a bypass: without an MFA provider these accounts cannot be accessed.
      throw new ServiceError('mfa_not_configured', 'this account requires MFA, but the server has no MFA set up: ask an admin');
    }
    const user = { userId: actor.userId, email: actor.email };
    if (idpMfaCounts(ctx, actor, project.mfa_enforced_method)) {
      mfaMethod = 'idp';
    } else if (!request.mfa) {
      const challenge = await deps.mfa.challenge(user, account, project.mfa_enforced_method);
      return { kind: 'mfa', ...challenge };
    }
    if (mfaMethod === null && request.mfa) {
      const verdict = await deps.mfa.verify(user, account, request.mfa);
      if (!verdict.ok) throw new ServiceError(verdict.code, verdict.message);
      mfaMethod = verdict.method;
    }
  }

  const now = ctx.now();
  const time = now.toISOString();
  // A session under a grant ends when the grant does, at the latest.
  const expiresMs = Math.min(now.getTime() + seconds * 1000, grant?.grant_expires_at ? Date.parse(grant.grant_expires_at) : Infinity);
  const row: SessionRow = {
    id: newId('ses_'),
    project_id: account.project_id,
    user_id: actor.userId,
    user_email: actor.email,
    resource_id: resource.id,
    resource_name: resource.name,
    account_id: account.id,
    account_name: account.name,
    gateway_id: resource.gateway_id,
    state: 'active',
    created_at: time,
    started_at: time,
    ended_at: null,
    expires_at: new Date(expiresMs).toISOString(),
    last_activity_at: time,
    end_reason: null,
    ended_by: null,
    client_address: client.address,
    client_agent: request.clientAgent ?? null,
    mfa_method: mfaMethod,
    reason,
    connections: 0,
    commands: 0,
    flag_count: 0,
    high_flag_count: 0,
    access_request_id: grant?.id ?? null,
    tunnel_client_fingerprint: null,
    tunnel_gateway_fingerprint: gatewayFingerprint,
  };
  const ca = await tunnelCaFor(ctx.rootKey, row.project_id);
  const clientCertificate = await issueSessionCertificate({
    caKey: ca.key,
    projectId: row.project_id,
    publicKey: tunnelKey,
    sessionId: row.id,
    // Five minutes early, for a gateway whose clock is a little behind this one.
    notBefore: new Date(now.getTime() - 5 * 60 * 1000),
    notAfter: new Date(expiresMs),
  });
  row.tunnel_client_fingerprint = certificateFingerprint(clientCertificate);
  await ctx.store.transaction(async (trx) => {
    await trx.insertInto('sessions').values(row).execute();
    await recordAudit(trx, time, {
      projectId: row.project_id,
      actor,
      action: AUDIT_ACTIONS.sessionStarted,
      targetType: 'session',
      targetId: row.id,
      details: {
        resourceName: row.resource_name,
        accountName: row.account_name,
        seconds: Math.round((expiresMs - now.getTime()) / 1000),
        mfaMethod,
        reason,
        ...(grant ? { accessRequestId: grant.id, approvedBy: grant.decided_by_email } : {}),
        // Who may speak at either end of the encrypted tunnel: a session certificate the control plane issued
        // appears here (and in the gateway's own log when used), so an unexplained one stands out.
        tunnelClientFingerprint: row.tunnel_client_fingerprint,
        tunnelGatewayFingerprint: gatewayFingerprint,
      },
    });
  });
  if (grant) await countGrantSession(ctx, grant.id);
  const ticket = issueRelayTicket(deps.ticketKey, { sessionId: row.id, userId: actor.userId }, now);
  return {
    kind: 'session',
    session: toSessionDto(row, now),
    relay: { ...ticket, url: client.relayUrl },
    tunnel: { clientCertificate, gatewayFingerprint },
  };
}

function sessionPublicKey(base64: string | undefined): KeyObject {
  if (!base64) {
    throw new ServiceError(
      'bad_request',
      'tunnelPublicKey is required: sessions are encrypted end to end, so the client must send the public key of a key pair it made for the session (update your Portcullis client)',
    );
  }
  try {
    return parseSessionPublicKey(base64);
  } catch (error) {
    throw new ServiceError('bad_request', (error as Error).message);
  }
}

/** `POST /sessions/:id/relay-tickets`: the session's user, while it is active. */
export async function issueTicketFor(deps: AccessDeps, actor: Actor, sessionId: string): Promise<RelayTicketDto> {
  const { row } = await findVisibleSession(deps.ctx, actor, sessionId);
  if (row.user_id !== actor.userId) throw new ServiceError('forbidden', 'only the user of a session can open connections in it');
  if (row.state !== 'active' || Date.parse(row.expires_at) <= deps.ctx.now().getTime()) {
    throw new ServiceError(
      'session_not_active',
      `the session is over (${row.state === 'active' ? 'expired' : row.state}): request access again`,
    );
  }
  return issueRelayTicket(deps.ticketKey, { sessionId, userId: actor.userId }, deps.ctx.now());
}

export interface VerifiedRelayTicket {
  sessionId: string;
  userId: string;
  gatewayId: string;
  expiresAt: string;
}

/**
 * For the relay: the ticket is genuine, unexpired, for this session and its user, and the session is active.
 * Returns what the relay needs to route the stream, or null.
 */
export async function verifyRelayTicket(deps: AccessDeps, ticket: string, sessionId: string): Promise<VerifiedRelayTicket | null> {
  const claims = checkRelayTicket(deps.ticketKey, ticket, sessionId, deps.ctx.now());
  if (!claims) return null;
  const row = await findSession(deps.ctx, sessionId);
  if (!row || row.user_id !== claims.userId || row.state !== 'active') return null;
  if (Date.parse(row.expires_at) <= deps.ctx.now().getTime()) return null;
  return { sessionId, userId: claims.userId, gatewayId: row.gateway_id, expiresAt: row.expires_at };
}
