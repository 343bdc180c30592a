/**
 * Test Connection (admins): the resource's gateway reaches the database with the given settings and, when a user is
 * given, signs in, without starting a session. Three shapes: a saved account (its stored password, or a new one
 * about to be saved), a saved resource (alone, or with a user and password about to be added), and settings not
 * saved yet (Add Resource). Each test is an audit event (its outcome; never a password).
 */
import type { ConnectionTestDto, ResourceInput } from '../../protocol/api';
import type { MongoTarget } from '../../protocol/target';
import type { AccountRow, ResourceRow } from '../store/schema';
import { AUDIT_ACTIONS, recordAudit } from './audit';
import { requireRole } from './authorization';
import { checkCaCertificate } from './ca-certificate';
import { checkConnectionString } from './connection-string';
import type { Actor, ServiceContext } from './context';
import { accountTarget, resourceTarget } from './mongo-targets';
import { requireGatewayOfProject } from './resources';
import { notFound, ServiceError } from './service-error';

/** Asks the gateway for the test; null when the gateway has no channel to this control plane. */
export type GatewayTester = (gatewayId: string, target: MongoTarget) => Promise<ConnectionTestDto> | null;

export interface UserToTry {
  username?: string;
  password?: string;
}

export async function testAccountConnection(
  ctx: ServiceContext,
  tester: GatewayTester,
  actor: Actor,
  accountId: string,
  input: { password?: string },
): Promise<ConnectionTestDto> {
  const account = await ctx.store.db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
  if (!account) throw notFound('account');
  await requireRole(ctx, actor, account.project_id, 'admin', 'account');
  const resource = await ctx.store.db.selectFrom('resources').selectAll().where('id', '=', account.resource_id).executeTakeFirstOrThrow();
  const target = await accountTarget(ctx, resource, account);
  if (input.password !== undefined) target.password = input.password;
  return run(ctx, tester, actor, resource, target, { account, newPassword: input.password !== undefined });
}

export async function testResourceConnection(
  ctx: ServiceContext,
  tester: GatewayTester,
  actor: Actor,
  resourceId: string,
  user: UserToTry,
): Promise<ConnectionTestDto> {
  const resource = await ctx.store.db.selectFrom('resources').selectAll().where('id', '=', resourceId).executeTakeFirst();
  if (!resource) throw notFound('resource');
  await requireRole(ctx, actor, resource.project_id, 'admin', 'resource');
  const target = withUser(await resourceTarget(ctx, resource), user);
  return run(ctx, tester, actor, resource, target, {});
}

/** Settings of a resource not created yet (the gateway must belong to the project). */
export async function testNewResourceConnection(
  ctx: ServiceContext,
  tester: GatewayTester,
  actor: Actor,
  projectId: string,
  input: Omit<ResourceInput, 'name'> & { name?: string } & UserToTry,
): Promise<ConnectionTestDto> {
  await requireRole(ctx, actor, projectId, 'admin', 'project');
  await requireGatewayOfProject(ctx.store.db, input.gatewayId, projectId);
  const target = withUser(
    {
      connectionString: checkConnectionString(input.connectionString),
      authDatabase: input.authDatabase ?? 'admin',
      tls: {
        enabled: input.tlsEnabled ?? true,
        rejectUnauthorized: input.tlsRejectUnauthorized ?? true,
        ...(input.caCertificate ? { caCertificate: checkCaCertificate(input.caCertificate) } : {}),
      },
      username: '',
      password: '',
      resourceName: input.name?.trim() || undefined,
    },
    input,
  );
  const pseudo = { id: null, project_id: projectId, gateway_id: input.gatewayId, name: input.name?.trim() || '(not saved)' };
  return run(ctx, tester, actor, pseudo, target, {});
}

function withUser(target: MongoTarget, user: UserToTry): MongoTarget {
  if (!user.username) return target;
  if (user.password === undefined) throw new ServiceError('validation_failed', 'password: give the password of the user to test with');
  return { ...target, username: user.username, password: user.password };
}

async function run(
  ctx: ServiceContext,
  tester: GatewayTester,
  actor: Actor,
  resource: Pick<ResourceRow, 'project_id' | 'gateway_id' | 'name'> & { id: string | null },
  target: MongoTarget,
  about: { account?: AccountRow; newPassword?: boolean },
): Promise<ConnectionTestDto> {
  const gateway = await ctx.store.db.selectFrom('gateways').select('name').where('id', '=', resource.gateway_id).executeTakeFirst();
  const pending = tester(resource.gateway_id, target);
  if (!pending) {
    throw new ServiceError(
      'gateway_offline',
      `the gateway ${gateway?.name ?? resource.gateway_id} is not connected to this control plane: start it (portcullis gateway start), then test again`,
    );
  }
  const result = await pending;
  await recordAudit(ctx.store.db, ctx.now().toISOString(), {
    projectId: resource.project_id,
    actor,
    action: about.account ? AUDIT_ACTIONS.accountConnectionTested : AUDIT_ACTIONS.resourceConnectionTested,
    targetType: about.account ? 'account' : 'resource',
    targetId: about.account?.id ?? resource.id,
    details: {
      resourceName: resource.name,
      ...(about.account ? { accountName: about.account.name, newPassword: Boolean(about.newPassword) } : {}),
      username: target.username || null,
      ok: result.ok,
      stage: result.stage,
    },
  });
  return result;
}
