/**
 * Gateways: one-time enrollment tokens, enrollment (token -> the gateway's own credential), the gateway's
 * online state as the relay reports it, listing and deletion.
 */
import { X509Certificate } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { EnrollmentTokenDto, GatewayDto, Page } from '../../protocol/api';
import type { GatewayEnrollRequest, GatewayEnrollResponse } from '../../protocol/gateway-channel';
import { hashSecretToken, newSecretToken, SECRET_PREFIXES } from '../auth/secret-tokens';
import { toFlag } from '../store/flags';
import { newId } from '../store/ids';
import type { Database, GatewayRow } from '../store/schema';
import { AUDIT_ACTIONS, recordAudit } from './audit';
import { type Actor, nowIso, type ServiceContext } from './context';
import { DEFAULT_PAGE_SIZE, decodeCursor, pageOf } from './cursor';
import { conflict, ServiceError } from './service-error';

export const ENROLLMENT_TOKEN_TTL_SECONDS = 3600;

/**
 * Online means: the relay says the control channel is open, and the gateway was seen within two heartbeat
 * intervals (a channel that died without a close is not trusted for long).
 */
export function isGatewayOnline(ctx: ServiceContext, row: Pick<GatewayRow, 'connected' | 'last_seen_at'>): boolean {
  if (row.connected !== 1 || row.last_seen_at === null) return false;
  return ctx.now().getTime() - Date.parse(row.last_seen_at) <= 2 * ctx.config.gatewayHeartbeatSeconds * 1000;
}

export function toGatewayDto(ctx: ServiceContext, row: GatewayRow): GatewayDto {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    online: isGatewayOnline(ctx, row),
    lastSeenAt: row.last_seen_at,
    createdAt: row.created_at,
  };
}

export async function createEnrollmentToken(
  ctx: ServiceContext,
  actor: Actor,
  projectId: string,
  name?: string,
): Promise<EnrollmentTokenDto> {
  const token = newSecretToken(SECRET_PREFIXES.enrollment);
  const now = ctx.now();
  const time = now.toISOString();
  const expiresAt = new Date(now.getTime() + ENROLLMENT_TOKEN_TTL_SECONDS * 1000).toISOString();
  const id = newId('enr_');
  await ctx.store.transaction(async (trx) => {
    await trx
      .insertInto('gateway_enrollment_tokens')
      .values({
        id,
        project_id: projectId,
        token_hash: hashSecretToken(token),
        name: name ?? null,
        created_by: actor.userId,
        created_at: time,
        expires_at: expiresAt,
        used_at: null,
        gateway_id: null,
      })
      .execute();
    await recordAudit(trx, time, {
      projectId,
      actor,
      action: AUDIT_ACTIONS.enrollmentTokenCreated,
      targetType: 'enrollment_token',
      targetId: id,
      details: { name: name ?? null, expiresAt },
    });
  });
  return { token, expiresAt };
}

/** Exchanges an enrollment token (once, before it expires) for a gateway id and the gateway's credential. */
export async function enrollGateway(ctx: ServiceContext, request: GatewayEnrollRequest): Promise<GatewayEnrollResponse> {
  const time = nowIso(ctx);
  const credential = newSecretToken(SECRET_PREFIXES.gatewayCredential);
  const gatewayId = newId('gw_');
  return ctx.store.transaction(async (trx) => {
    const token = await trx
      .selectFrom('gateway_enrollment_tokens')
      .selectAll()
      .where('token_hash', '=', hashSecretToken(request.token))
      .executeTakeFirst();
    if (!token || token.used_at !== null || token.expires_at <= time) {
      throw new ServiceError(
        'unauthenticated',
        'this enrollment token is not valid (unknown, already used or expired): ask an admin for a new one with `portcullis gateway enroll-token`',
      );
    }
    // The conditional update makes a token usable once even when two gateways race with it.
    const claimed = await trx
      .updateTable('gateway_enrollment_tokens')
      .set({ used_at: time, gateway_id: gatewayId })
      .where('id', '=', token.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1)
      throw new ServiceError('unauthenticated', 'this enrollment token was just used: ask an admin for a new one');
    const name = request.name?.trim() || token.name || gatewayId;
    await insertGateway(trx, { id: gatewayId, projectId: token.project_id, name, credential, time });
    await recordAudit(trx, time, {
      projectId: token.project_id,
      actor: null,
      action: AUDIT_ACTIONS.gatewayEnrolled,
      targetType: 'gateway',
      targetId: gatewayId,
      details: { name, enrollmentTokenId: token.id },
    });
    return { gatewayId, credential };
  });
}

/** The gateway a credential belongs to, or null. For the relay's gateway endpoints. */
export async function authenticateGateway(
  db: Kysely<Database>,
  credential: string,
): Promise<{ gatewayId: string; projectId: string; name: string } | null> {
  if (!credential.startsWith(SECRET_PREFIXES.gatewayCredential)) return null;
  const row = await db
    .selectFrom('gateways')
    .select(['id', 'project_id', 'name'])
    .where('credential_hash', '=', hashSecretToken(credential))
    .executeTakeFirst();
  return row ? { gatewayId: row.id, projectId: row.project_id, name: row.name } : null;
}

/**
 * Called by the relay when a gateway's control channel opens or closes, and on each heartbeat (connected =
 * true refreshes last_seen_at). `version` is what the gateway said in its hello.
 */
export async function setGatewayConnected(
  db: Kysely<Database>,
  gatewayId: string,
  connected: boolean,
  at: Date,
  version?: string,
): Promise<void> {
  await db
    .updateTable('gateways')
    .set({ connected: toFlag(connected), last_seen_at: at.toISOString(), ...(version !== undefined ? { version } : {}) })
    .where('id', '=', gatewayId)
    .execute();
}

/**
 * Ends the active sessions of gateways that no replica has heard from for `graceMs` (`last_seen_at`, renewed by the
 * heartbeats every replica receives), with reason gateway_offline. One replica sweeps at a time (the others skip
 * the round); the ends themselves are conditional updates, so a session ends once whatever happens.
 */
/**
 * The gateway presented its tunnel certificate (hello). Stored when it differs from the one on record; a change
 * (first start with end-to-end encryption, or a rotated key) is audited with both fingerprints, once even when
 * every replica hears the same hello. A certificate that does not parse is ignored and logged by the caller.
 */
export async function recordGatewayTunnelCertificate(ctx: ServiceContext, gatewayId: string, certificatePem: string): Promise<void> {
  let fingerprint: string;
  try {
    const certificate = new X509Certificate(certificatePem);
    if (certificate.publicKey.asymmetricKeyType !== 'ec') throw new Error('not an EC key');
    fingerprint = certificate.fingerprint256;
  } catch (error) {
    throw new Error(`the gateway's tunnel certificate is not usable (${(error as Error).message})`);
  }
  const time = nowIso(ctx);
  await ctx.store.transaction(async (trx) => {
    const gateway = await trx
      .selectFrom('gateways')
      .select(['project_id', 'name', 'tunnel_fingerprint'])
      .where('id', '=', gatewayId)
      .executeTakeFirst();
    if (!gateway || gateway.tunnel_fingerprint === fingerprint) return;
    const changed = await trx
      .updateTable('gateways')
      .set({ tunnel_certificate: certificatePem, tunnel_fingerprint: fingerprint })
      .where('id', '=', gatewayId)
      .where((eb) =>
        gateway.tunnel_fingerprint === null
          ? eb('tunnel_fingerprint', 'is', null)
          : eb('tunnel_fingerprint', '=', gateway.tunnel_fingerprint),
      )
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) !== 1) return;
    await recordAudit(trx, time, {
      projectId: gateway.project_id,
      actor: null,
      action: AUDIT_ACTIONS.gatewayTunnelKeyChanged,
      targetType: 'gateway',
      targetId: gatewayId,
      details: { name: gateway.name, previousFingerprint: gateway.tunnel_fingerprint, fingerprint },
    });
  });
}

export async function endSessionsOfOfflineGateways(
  ctx: ServiceContext,
  graceMs: number,
  endSessionsOf: (gatewayId: string) => Promise<unknown>,
): Promise<string[]> {
  const swept = await ctx.store.exclusively('gateway-offline-sweep', async () => {
    const cutoff = new Date(ctx.now().getTime() - graceMs).toISOString();
    const offline = (
      await ctx.store.db
        .selectFrom('sessions')
        .innerJoin('gateways', 'gateways.id', 'sessions.gateway_id')
        .select('sessions.gateway_id')
        .distinct()
        .where('sessions.state', '=', 'active')
        .where((eb) => eb.or([eb('gateways.last_seen_at', 'is', null), eb('gateways.last_seen_at', '<', cutoff)]))
        .execute()
    ).map((row) => row.gateway_id);
    for (const gatewayId of offline) await endSessionsOf(gatewayId);
    return offline;
  });
  return swept ?? [];
}

/** A page of the projects' gateways by name (then id), after `cursor`. */
export async function listGateways(
  ctx: ServiceContext,
  projectIds: string[],
  query: { limit?: number; cursor?: string } = {},
): Promise<Page<GatewayDto>> {
  if (projectIds.length === 0) return { items: [] };
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  let q = ctx.store.db.selectFrom('gateways').selectAll().where('project_id', 'in', projectIds);
  if (query.cursor) {
    const [name, id] = decodeCursor(query.cursor, ['s', 's']) as [string, string];
    q = q.where((eb) => eb.or([eb('name', '>', name), eb.and([eb('name', '=', name), eb('id', '>', id)])]));
  }
  const rows = await q
    .orderBy('name')
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  return pageOf(
    rows,
    limit,
    (r) => toGatewayDto(ctx, r),
    (r) => [r.name, r.id],
  );
}

export function findGateway(ctx: ServiceContext, gatewayId: string): Promise<GatewayRow | undefined> {
  return ctx.store.db.selectFrom('gateways').selectAll().where('id', '=', gatewayId).executeTakeFirst();
}

export async function deleteGateway(ctx: ServiceContext, actor: Actor, gateway: GatewayRow): Promise<void> {
  const time = nowIso(ctx);
  await ctx.store.transaction(async (trx) => {
    const users = await trx.selectFrom('resources').select('name').where('gateway_id', '=', gateway.id).orderBy('name').execute();
    if (users.length > 0) {
      throw conflict(
        `gateway ${gateway.name} serves the resources ${users.map((r) => r.name).join(', ')}: move them to another gateway or delete them first`,
      );
    }
    await trx.deleteFrom('gateways').where('id', '=', gateway.id).execute();
    await recordAudit(trx, time, {
      projectId: gateway.project_id,
      actor,
      action: AUDIT_ACTIONS.gatewayDeleted,
      targetType: 'gateway',
      targetId: gateway.id,
      details: { name: gateway.name },
    });
  });
}

/** A new gateway row, never seen yet; only the hash of its credential is stored. */
export async function insertGateway(
  db: Kysely<Database>,
  gateway: { id: string; projectId: string; name: string; credential: string; time: string },
): Promise<void> {
  await db
    .insertInto('gateways')
    .values({
      id: gateway.id,
      project_id: gateway.projectId,
      name: gateway.name,
      credential_hash: hashSecretToken(gateway.credential),
      created_at: gateway.time,
      last_seen_at: null,
      connected: 0,
      version: null,
    })
    .execute();
}
