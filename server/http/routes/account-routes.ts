/** Accounts of a resource, and access to one (which starts a session). */
import type { FastifyInstance } from 'fastify';
import { type AccessRequest, type AccountInput, API_PREFIX } from '../../../protocol/api';
import { RELAY_PATH } from '../../../protocol/relay';
import { createAccount, deleteAccount, findAccount, listAccounts, toAccountDto, updateAccount } from '../../services/accounts';
import { requireRole } from '../../services/authorization';
import { testAccountConnection } from '../../services/connection-tests';
import { ServiceError } from '../../services/service-error';
import { requestAccess } from '../../sessions/access';
import type { AppDeps } from '../app-deps';
import { actorOf } from '../authentication';
import { booleanSchema, idParams, nameSchema, noContentResponse, object, pageQueryProperties, passwordSchema, text } from '../schemas';
import { resourceFor } from './resource-routes';

const accountFields = {
  name: nameSchema,
  description: text(1000),
  username: text(256, 1),
  password: passwordSchema,
  mfaRequired: booleanSchema,
  maxSessionDurationSeconds: { type: 'integer', minimum: 60, maximum: 7 * 86400 },
  // The shape here; what each entry may be (patterns, names) is validatePolicy's (protocol/policy.ts).
  policy: object({
    mode: { type: 'string', enum: ['read-write', 'read-only'] },
    databases: { type: 'array', maxItems: 100, items: text(120, 1) },
    denied: { type: 'array', maxItems: 100, items: text(120, 1) },
    reasonRequired: booleanSchema,
    approvalRequired: booleanSchema,
  }),
};

export function accountRoutes(api: FastifyInstance, deps: AppDeps): void {
  const { ctx } = deps;
  const resourceParams = idParams('id', 'res_');
  const params = idParams('id', 'acc_');

  async function accountFor(actorId: { userId: string; email: string }, id: string, need: 'admin' | 'member') {
    const account = await findAccount(ctx, id);
    if (!account) throw new ServiceError('not_found', 'account not found');
    await requireRole(ctx, actorId, account.project_id, need, 'account');
    return account;
  }

  api.get<{ Params: { id: string }; Querystring: { name?: string; limit?: number; cursor?: string } }>(
    '/resources/:id/accounts',
    { schema: { params: resourceParams, querystring: object({ name: nameSchema, ...pageQueryProperties }) } },
    async (request) => {
      const resource = await resourceFor(ctx, actorOf(request), request.params.id, 'member');
      return listAccounts(ctx, resource.id, request.query);
    },
  );

  api.post<{ Params: { id: string }; Body: AccountInput }>(
    '/resources/:id/accounts',
    { schema: { params: resourceParams, body: object(accountFields, ['name', 'username', 'password']) } },
    async (request, reply) => {
      const actor = actorOf(request);
      const resource = await resourceFor(ctx, actor, request.params.id, 'admin');
      return reply.code(201).send(await createAccount(ctx, actor, resource, request.body));
    },
  );

  api.get<{ Params: { id: string } }>('/accounts/:id', { schema: { params } }, async (request) =>
    toAccountDto(await accountFor(actorOf(request), request.params.id, 'member')),
  );

  api.patch<{ Params: { id: string }; Body: Partial<AccountInput> }>(
    '/accounts/:id',
    { schema: { params, body: { ...object(accountFields), minProperties: 1 } } },
    async (request) => {
      const actor = actorOf(request);
      const updated = await updateAccount(ctx, actor, await accountFor(actor, request.params.id, 'admin'), request.body);
      // Running sessions' gateways fetch the account again: a new policy applies to the next command, a new user
      // name or password to the next connection (a session that failed on a wrong password works once it is fixed).
      const { policy, username, password } = request.body;
      if (policy !== undefined || username !== undefined || password !== undefined) await deps.policyChanged(updated.id);
      return updated;
    },
  );

  api.delete<{ Params: { id: string } }>('/accounts/:id', { schema: { params, response: noContentResponse } }, async (request, reply) => {
    const actor = actorOf(request);
    const account = await accountFor(actor, request.params.id, 'admin');
    await deleteAccount(ctx, actor, account);
    await deps.sessions.endSessionsOf({ accountId: account.id }, actor.email);
    return reply.code(204).send();
  });

  // Test Connection with the stored password, or with a new one before it is saved.
  api.post<{ Params: { id: string }; Body: { password?: string } | undefined }>(
    '/accounts/:id/test-connection',
    { schema: { params, body: object({ password: passwordSchema }) } },
    async (request) => testAccountConnection(ctx, deps.testOnGateway, actorOf(request), request.params.id, request.body ?? {}),
  );

  api.post<{ Params: { id: string }; Body: AccessRequest | undefined }>(
    '/accounts/:id/access',
    {
      schema: {
        params,
        body: object({
          durationSeconds: { type: 'integer', minimum: 60, maximum: 7 * 86400 },
          clientAgent: text(200),
          mfa: object({ challengeId: text(200, 1), code: text(100, 1) }, ['challengeId', 'code']),
          reason: text(500),
          // base64 of a DER EC P-256 SubjectPublicKeyInfo (91 bytes: 124 characters).
          tunnelPublicKey: text(400, 1),
        }),
      },
    },
    async (request, reply) => {
      const answer = await requestAccess(deps.access, actorOf(request), request.params.id, request.body ?? {}, {
        address: request.ip ?? null,
        relayUrl: relayUrlFor(ctx.config.publicUrl, request.protocol, request.host),
      });
      // 202: a request now waits for an admin (GET /access-requests/:id).
      return reply.code(answer.kind === 'session' ? 201 : answer.kind === 'approval' ? 202 : 200).send(answer);
    },
  );
}

/** ws(s)://host/api/v1/relay, from the configured public address or the one this request came to. */
export function relayUrlFor(publicUrl: string | undefined, protocol: string, host: string): string {
  if (publicUrl) {
    const url = new URL(publicUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.pathname = `${url.pathname.replace(/\/$/, '')}${API_PREFIX}${RELAY_PATH}`;
    return url.toString();
  }
  return `${protocol === 'https' ? 'wss' : 'ws'}://${host}${API_PREFIX}${RELAY_PATH}`;
}
