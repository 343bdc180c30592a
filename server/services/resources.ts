/** Resources: a MongoDB deployment reached through one gateway of the same project. */
import type { Kysely } from 'kysely';
import type { Page, ResourceDto, ResourceInput } from '../../protocol/api';
import { isUniqueViolation } from '../store/errors';
import { fromFlag, toFlag } from '../store/flags';
import { newId } from '../store/ids';
import type { Database, GatewayRow, ResourceRow, ResourceUpdate } from '../store/schema';
import { AUDIT_ACTIONS, recordAudit } from './audit';
import { checkCaCertificate } from './ca-certificate';
import { checkConnectionString } from './connection-string';
import { type Actor, nowIso, type ServiceContext } from './context';
import { DEFAULT_PAGE_SIZE, decodeCursor, pageOf } from './cursor';
import { isGatewayOnline } from './gateways';
import { secretAad } from './project-keys';
import { conflict, invalid } from './service-error';

type ResourceWithGateway = ResourceRow & { gateway_name: string; gateway_connected: 0 | 1; gateway_last_seen_at: string | null };

function selectResources(db: Kysely<Database>) {
  return db
    .selectFrom('resources')
    .innerJoin('gateways', 'gateways.id', 'resources.gateway_id')
    .selectAll('resources')
    .select(['gateways.name as gateway_name', 'gateways.connected as gateway_connected', 'gateways.last_seen_at as gateway_last_seen_at']);
}

export function toResourceDto(ctx: ServiceContext, row: ResourceWithGateway): ResourceDto {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    gatewayId: row.gateway_id,
    gatewayName: row.gateway_name,
    gatewayOnline: isGatewayOnline(ctx, { connected: row.gateway_connected, last_seen_at: row.gateway_last_seen_at }),
    connectionString: row.connection_string,
    authDatabase: row.auth_database,
    tlsEnabled: fromFlag(row.tls_enabled),
    tlsRejectUnauthorized: fromFlag(row.tls_reject_unauthorized),
    hasCaCertificate: row.ca_certificate_enc !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function findResource(ctx: ServiceContext, id: string): Promise<ResourceWithGateway | undefined> {
  return selectResources(ctx.store.db).where('resources.id', '=', id).executeTakeFirst();
}

export async function listResources(
  ctx: ServiceContext,
  projectIds: string[],
  query: { name?: string; limit?: number; cursor?: string },
): Promise<Page<ResourceDto>> {
  if (projectIds.length === 0) return { items: [] };
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  let q = selectResources(ctx.store.db).where('resources.project_id', 'in', projectIds);
  if (query.name !== undefined) q = q.where('resources.name', '=', query.name);
  if (query.cursor) {
    const [name, id] = decodeCursor(query.cursor, ['s', 's']) as [string, string];
    q = q.where((eb) => eb.or([eb('resources.name', '>', name), eb.and([eb('resources.name', '=', name), eb('resources.id', '>', id)])]));
  }
  const rows = await q
    .orderBy('resources.name')
    .orderBy('resources.id')
    .limit(limit + 1)
    .execute();
  return pageOf(
    rows,
    limit,
    (r) => toResourceDto(ctx, r),
    (r) => [r.name, r.id],
  );
}

export async function requireGatewayOfProject(db: Kysely<Database>, gatewayId: string, projectId: string): Promise<GatewayRow> {
  const gateway = await db.selectFrom('gateways').selectAll().where('id', '=', gatewayId).executeTakeFirst();
  if (!gateway || gateway.project_id !== projectId) {
    throw invalid("gatewayId: no gateway with this id in the resource's project (list them with GET /gateways)");
  }
  return gateway;
}

const nameTaken = (name: string) => conflict(`a resource named "${name}" already exists in this project: pick another name`);

export async function createResource(ctx: ServiceContext, actor: Actor, projectId: string, input: ResourceInput): Promise<ResourceDto> {
  const connectionString = checkConnectionString(input.connectionString);
  const ca = input.caCertificate ? checkCaCertificate(input.caCertificate) : null;
  const time = nowIso(ctx);
  const id = newId('res_');
  const name = input.name.trim();
  try {
    await ctx.store.transaction(async (trx) => {
      await requireGatewayOfProject(trx, input.gatewayId, projectId);
      await trx
        .insertInto('resources')
        .values({
          id,
          project_id: projectId,
          gateway_id: input.gatewayId,
          name,
          connection_string: connectionString,
          auth_database: input.authDatabase ?? 'admin',
          tls_enabled: toFlag(input.tlsEnabled ?? true),
          tls_reject_unauthorized: toFlag(input.tlsRejectUnauthorized ?? true),
          // Through trx: a fresh project's key read through store.db would wait for this transaction (issue 12).
          ca_certificate_enc: ca === null ? null : await ctx.keys.encrypt(trx, projectId, ca, secretAad.resourceCaCertificate(id)),
          created_at: time,
          updated_at: time,
        })
        .execute();
      await recordAudit(trx, time, {
        projectId,
        actor,
        action: AUDIT_ACTIONS.resourceCreated,
        targetType: 'resource',
        targetId: id,
        details: { name, gatewayId: input.gatewayId, hasCaCertificate: ca !== null },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(name);
    throw error;
  }
  return toResourceDto(ctx, (await findResource(ctx, id))!);
}

export async function updateResource(
  ctx: ServiceContext,
  actor: Actor,
  existing: ResourceRow,
  input: Partial<ResourceInput>,
): Promise<ResourceDto> {
  const time = nowIso(ctx);
  const changes: ResourceUpdate = { updated_at: time };
  if (input.name !== undefined) changes.name = input.name.trim();
  if (input.connectionString !== undefined) changes.connection_string = checkConnectionString(input.connectionString);
  if (input.authDatabase !== undefined) changes.auth_database = input.authDatabase;
  if (input.tlsEnabled !== undefined) changes.tls_enabled = toFlag(input.tlsEnabled);
  if (input.tlsRejectUnauthorized !== undefined) changes.tls_reject_unauthorized = toFlag(input.tlsRejectUnauthorized);
  if (input.caCertificate === null) changes.ca_certificate_enc = null;
  else if (input.caCertificate !== undefined) {
    const ca = checkCaCertificate(input.caCertificate);
    changes.ca_certificate_enc = await ctx.keys.encrypt(
      ctx.store.db,
      existing.project_id,
      ca,
      secretAad.resourceCaCertificate(existing.id),
    );
  }
  try {
    await ctx.store.transaction(async (trx) => {
      if (input.gatewayId !== undefined) {
        await requireGatewayOfProject(trx, input.gatewayId, existing.project_id);
        changes.gateway_id = input.gatewayId;
      }
      await trx.updateTable('resources').set(changes).where('id', '=', existing.id).execute();
      await recordAudit(trx, time, {
        projectId: existing.project_id,
        actor,
        action: AUDIT_ACTIONS.resourceUpdated,
        targetType: 'resource',
        targetId: existing.id,
        details: { name: changes.name ?? existing.name, changed: Object.keys(input).map((k) => (k === 'caCertificate' ? 'ca' : k)) },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(changes.name ?? existing.name);
    throw error;
  }
  return toResourceDto(ctx, (await findResource(ctx, existing.id))!);
}

export async function deleteResource(ctx: ServiceContext, actor: Actor, existing: ResourceRow): Promise<void> {
  const time = nowIso(ctx);
  await ctx.store.transaction(async (trx) => {
    await trx.deleteFrom('resources').where('id', '=', existing.id).execute();
    await recordAudit(trx, time, {
      projectId: existing.project_id,
      actor,
      action: AUDIT_ACTIONS.resourceDeleted,
      targetType: 'resource',
      targetId: existing.id,
      details: { name: existing.name },
    });
  });
}
