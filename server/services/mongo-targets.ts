/**
 * The MongoTarget a gateway is given for a resource and an account: connection details, the decrypted CA and
 * password. Built only for the gateway's control channel (a session's credentials, an admin's connection test).
 */
import type { MongoTarget } from '../../protocol/target';
import { fromFlag } from '../store/flags';
import type { AccountRow, ResourceRow } from '../store/schema';
import { policyOf } from './accounts';
import type { ServiceContext } from './context';
import { secretAad } from './project-keys';

/** The resource's part, with no user (username and password empty). */
export async function resourceTarget(ctx: ServiceContext, resource: ResourceRow): Promise<MongoTarget> {
  const caCertificate =
    resource.ca_certificate_enc === null
      ? undefined
      : await ctx.keys.decrypt(
          ctx.store.db,
          resource.project_id,
          resource.ca_certificate_enc,
          secretAad.resourceCaCertificate(resource.id),
        );
  return {
    connectionString: resource.connection_string,
    authDatabase: resource.auth_database,
    tls: {
      enabled: fromFlag(resource.tls_enabled),
      rejectUnauthorized: fromFlag(resource.tls_reject_unauthorized),
      ...(caCertificate !== undefined ? { caCertificate } : {}),
    },
    username: '',
    password: '',
    resourceName: resource.name,
  };
}

/** The resource reached as the account, with its stored password and policy. */
export async function accountTarget(ctx: ServiceContext, resource: ResourceRow, account: AccountRow): Promise<MongoTarget> {
  const password = await ctx.keys.decrypt(ctx.store.db, account.project_id, account.password_enc, secretAad.accountPassword(account.id));
  return {
    ...(await resourceTarget(ctx, resource)),
    username: account.username,
    password,
    accountName: account.name,
    policy: policyOf(account),
  };
}
