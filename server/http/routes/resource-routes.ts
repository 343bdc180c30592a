/** Resources: members list and read them; admins create, change and delete them. */
import type { FastifyInstance } from 'fastify';
import type { ResourceInput, Role } from '../../../protocol/api';
import { projectsOf, requireRole } from '../../services/authorization';
import { testNewResourceConnection, testResourceConnection } from '../../services/connection-tests';
import type { Actor, ServiceContext } from '../../services/context';
import { createResource, deleteResource, findResource, listResources, toResourceDto, updateResource } from '../../services/resources';
import { ServiceError } from '../../services/service-error';
import type { AppDeps } from '../app-deps';
import { actorOf } from '../authentication';
import {
  booleanSchema,
  idParams,
  idSchema,
  nameSchema,
  noContentResponse,
  object,
  pageQueryProperties,
  passwordSchema,
  text,
} from '../schemas';

const resourceFields = {
  name: nameSchema,
  gatewayId: idSchema('gw_'),
  connectionString: text(4096, 1),
  authDatabase: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^/\\\\. "$]+$' },
  tlsEnabled: booleanSchema,
  tlsRejectUnauthorized: booleanSchema,
  caCertificate: { anyOf: [text(256 * 1024, 1), { type: 'null' }] },
};

/** The resource when the actor has `need` in its project (404 for outsiders, 403 for a member where admin is needed). */
export async function resourceFor(ctx: ServiceContext, actor: Actor, id: string, need: Role) {
  const resource = await findResource(ctx, id);
  if (!resource) throw new ServiceError('not_found', 'resource not found');
  await requireRole(ctx, actor, resource.project_id, need, 'resource');
  return resource;
}

export function resourceRoutes(api: FastifyInstance, deps: AppDeps): void {
  const { ctx } = deps;
  const params = idParams('id', 'res_');

  api.get<{ Querystring: { projectId?: string; name?: string; limit?: number; cursor?: string } }>(
    '/resources',
    { schema: { querystring: object({ projectId: idSchema('prj_'), name: nameSchema, ...pageQueryProperties }) } },
    async (request) => {
      const actor = actorOf(request);
      const { projectId, ...query } = request.query;
      if (projectId !== undefined) {
        await requireRole(ctx, actor, projectId, 'member', 'project');
        return listResources(ctx, [projectId], query);
      }
      const projects = await projectsOf(ctx, actor.userId);
      return listResources(ctx, [...projects.admin, ...projects.member], query);
    },
  );

  api.post<{ Body: ResourceInput & { projectId: string } }>(
    '/resources',
    {
      schema: {
        body: object({ projectId: idSchema('prj_'), ...resourceFields }, ['projectId', 'name', 'gatewayId', 'connectionString']),
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { projectId, ...input } = request.body;
      await requireRole(ctx, actor, projectId, 'admin', 'project');
      return reply.code(201).send(await createResource(ctx, actor, projectId, input));
    },
  );

  // Test Connection: the gateway reaches the database (and signs in, given a user); no session, nothing saved.
  const userToTry = { username: text(200, 1), password: passwordSchema };
  api.post<{ Body: ResourceInput & { projectId: string; username?: string; password?: string } }>(
    '/resources/test-connection',
    {
      schema: {
        body: object({ projectId: idSchema('prj_'), ...resourceFields, name: text(200), ...userToTry }, [
          'projectId',
          'gatewayId',
          'connectionString',
        ]),
      },
    },
    async (request) => {
      const { projectId, ...input } = request.body;
      return testNewResourceConnection(ctx, deps.testOnGateway, actorOf(request), projectId, input);
    },
  );

  api.post<{ Params: { id: string }; Body: { username?: string; password?: string } | undefined }>(
    '/resources/:id/test-connection',
    { schema: { params, body: object(userToTry) } },
    async (request) => testResourceConnection(ctx, deps.testOnGateway, actorOf(request), request.params.id, request.body ?? {}),
  );

  api.get<{ Params: { id: string } }>('/resources/:id', { schema: { params } }, async (request) =>
    toResourceDto(ctx, await resourceFor(ctx, actorOf(request), request.params.id, 'member')),
  );

  api.patch<{ Params: { id: string }; Body: Partial<ResourceInput> }>(
    '/resources/:id',
    { schema: { params, body: { ...object(resourceFields), minProperties: 1 } } },
    async (request) => {
      const actor = actorOf(request);
      const resource = await resourceFor(ctx, actor, request.params.id, 'admin');
      return updateResource(ctx, actor, resource, request.body);
    },
  );

  api.delete<{ Params: { id: string } }>('/resources/:id', { schema: { params, response: noContentResponse } }, async (request, reply) => {
    const actor = actorOf(request);
    const resource = await resourceFor(ctx, actor, request.params.id, 'admin');
    await deleteResource(ctx, actor, resource);
    await deps.sessions.endSessionsOf({ resourceId: resource.id }, actor.email);
    return reply.code(204).send();
  });
}
