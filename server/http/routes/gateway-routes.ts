/** Gateway enrollment tokens, enrollment itself (authenticated by the token), listing and deletion. */
import type { FastifyInstance } from 'fastify';
import { GATEWAY_ENROLL_PATH, type GatewayEnrollRequest } from '../../../protocol/gateway-channel';
import { clientNetwork } from '../../auth/client-network';
import { admitEnrollment, recordEnrollmentSuccess } from '../../auth/enrollment-throttle';
import { projectsOf, requireRole } from '../../services/authorization';
import { createEnrollmentToken, deleteGateway, enrollGateway, findGateway, listGateways } from '../../services/gateways';
import { ServiceError } from '../../services/service-error';
import type { AppDeps } from '../app-deps';
import { actorOf } from '../authentication';
import { idParams, idSchema, nameSchema, noContentResponse, object, pageQueryProperties, text } from '../schemas';

export function gatewayRoutes(api: FastifyInstance, deps: AppDeps): void {
  const { ctx } = deps;

  api.post<{ Body: { projectId: string; name?: string } }>(
    '/gateways/enrollment-tokens',
    { schema: { body: object({ projectId: idSchema('prj_'), name: nameSchema }, ['projectId']) } },
    async (request, reply) => {
      const actor = actorOf(request);
      await requireRole(ctx, actor, request.body.projectId, 'admin', 'project');
      return reply.code(201).send(await createEnrollmentToken(ctx, actor, request.body.projectId, request.body.name));
    },
  );

  api.post<{ Body: GatewayEnrollRequest }>(
    GATEWAY_ENROLL_PATH,
    { config: { auth: 'none' }, schema: { body: object({ token: text(200, 1), name: nameSchema }, ['token']) } },
    async (request, reply) => {
      const network = clientNetwork(request.ip);
      const admission = await admitEnrollment(ctx.store, network, ctx.now);
      if (!admission.admitted) {
        const wait = admission.retryAfterSeconds;
        throw new ServiceError('rate_limited', `too many failed enrollments: try again in ${wait} seconds`, wait);
      }
      const enrolled = await enrollGateway(ctx, request.body);
      await recordEnrollmentSuccess(ctx.store, network);
      return reply.code(201).send(enrolled);
    },
  );

  api.get<{ Querystring: { projectId?: string; limit?: number; cursor?: string } }>(
    '/gateways',
    { schema: { querystring: object({ projectId: idSchema('prj_'), ...pageQueryProperties }) } },
    async (request) => {
      const actor = actorOf(request);
      const { projectId, ...page } = request.query;
      if (projectId !== undefined) {
        await requireRole(ctx, actor, projectId, 'admin', 'project');
        return listGateways(ctx, [projectId], page);
      }
      return listGateways(ctx, (await projectsOf(ctx, actor.userId)).admin, page);
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/gateways/:id',
    { schema: { params: idParams('id', 'gw_'), response: noContentResponse } },
    async (request, reply) => {
      const actor = actorOf(request);
      const gateway = await findGateway(ctx, request.params.id);
      if (!gateway) throw new ServiceError('not_found', 'gateway not found');
      await requireRole(ctx, actor, gateway.project_id, 'admin', 'gateway');
      await deleteGateway(ctx, actor, gateway);
      deps.gatewayEvents.emit('deleted', gateway.id);
      return reply.code(204).send();
    },
  );
}
