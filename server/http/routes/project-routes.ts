/** Projects, their members and their audit trail. */
import type { FastifyInstance } from 'fastify';
import type { AddMemberRequest, Role } from '../../../protocol/api';
import { listAudit } from '../../services/audit';
import { requireRole } from '../../services/authorization';
import { addMember, listMembers, removeMember, updateMember } from '../../services/members';
import { createProject, listProjects } from '../../services/projects';
import type { AppDeps } from '../app-deps';
import { actorOf } from '../authentication';
import {
  emailSchema,
  idSchema,
  nameSchema,
  noContentResponse,
  object,
  pageQueryProperties,
  passwordSchema,
  roleSchema,
  text,
} from '../schemas';

const projectParams = object({ projectId: idSchema('prj_') }, ['projectId']);
const memberParams = object({ projectId: idSchema('prj_'), userId: idSchema('usr_') }, ['projectId', 'userId']);

export function projectRoutes(api: FastifyInstance, deps: AppDeps): void {
  const { ctx } = deps;

  api.get('/projects', async (request) => listProjects(ctx, actorOf(request).userId));

  api.post<{ Body: { name: string } }>(
    '/projects',
    { schema: { body: object({ name: nameSchema }, ['name']) } },
    async (request, reply) => {
      const project = await createProject(ctx, actorOf(request), request.body.name);
      return reply.code(201).send(project);
    },
  );

  api.get<{ Params: { projectId: string }; Querystring: { limit?: number; cursor?: string } }>(
    '/projects/:projectId/members',
    { schema: { params: projectParams, querystring: object(pageQueryProperties) } },
    async (request) => {
      await requireRole(ctx, actorOf(request), request.params.projectId, 'admin', 'project');
      return listMembers(ctx, request.params.projectId, request.query);
    },
  );

  api.post<{ Params: { projectId: string }; Body: AddMemberRequest }>(
    '/projects/:projectId/members',
    {
      schema: {
        params: projectParams,
        body: object({ email: emailSchema, role: roleSchema, name: nameSchema, password: passwordSchema }, ['email', 'role']),
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      await requireRole(ctx, actor, request.params.projectId, 'admin', 'project');
      return reply.code(201).send(await addMember(ctx, actor, request.params.projectId, request.body));
    },
  );

  api.patch<{ Params: { projectId: string; userId: string }; Body: { role: Role } }>(
    '/projects/:projectId/members/:userId',
    { schema: { params: memberParams, body: object({ role: roleSchema }, ['role']) } },
    async (request) => {
      const actor = actorOf(request);
      await requireRole(ctx, actor, request.params.projectId, 'admin', 'project');
      return updateMember(ctx, actor, request.params.projectId, request.params.userId, request.body.role);
    },
  );

  api.delete<{ Params: { projectId: string; userId: string } }>(
    '/projects/:projectId/members/:userId',
    { schema: { params: memberParams, response: noContentResponse } },
    async (request, reply) => {
      const actor = actorOf(request);
      await requireRole(ctx, actor, request.params.projectId, 'admin', 'project');
      await removeMember(ctx, actor, request.params.projectId, request.params.userId);
      // A removed member keeps no way in: their running sessions in the project end now.
      await deps.sessions.endSessionsOf({ projectId: request.params.projectId, userId: request.params.userId }, actor.email);
      return reply.code(204).send();
    },
  );

  api.get<{ Params: { projectId: string }; Querystring: { limit?: number; cursor?: string; action?: string } }>(
    '/projects/:projectId/audit',
    { schema: { params: projectParams, querystring: object({ ...pageQueryProperties, action: text(100, 1) }) } },
    async (request) => {
      await requireRole(ctx, actorOf(request), request.params.projectId, 'admin', 'project');
      return listAudit(ctx, request.params.projectId, request.query);
    },
  );
}
