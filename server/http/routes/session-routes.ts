/** Sessions: list (members see their own), show, logs, relay tickets, stop (own) and terminate (admin). */

import type { FastifyInstance } from 'fastify';
import { RISK_FLAG_IDS } from '../../../protocol/session-log';
import { issueTicketFor } from '../../sessions/access';
import { listSessionLogs } from '../../sessions/session-logs';
import { findVisibleSession, listSessions, type SessionFilters, toSessionDto } from '../../sessions/session-queries';
import { type SessionSearchQuery, searchSessionLogs } from '../../sessions/session-search';
import type { AppDeps } from '../app-deps';
import { actorOf } from '../authentication';
import { idParams, idSchema, object, pageQueryProperties, text, timeSchema } from '../schemas';

const SESSION_STATES = ['starting', 'active', 'ended', 'terminated', 'expired', 'failed'];

export function sessionRoutes(api: FastifyInstance, deps: AppDeps): void {
  const { ctx } = deps;
  const params = idParams('id', 'ses_');

  api.get<{ Querystring: SessionFilters }>(
    '/sessions',
    {
      schema: {
        querystring: object({
          projectId: idSchema('prj_'),
          resourceId: idSchema('res_'),
          accountId: idSchema('acc_'),
          userId: idSchema('usr_'),
          state: { type: 'string', enum: SESSION_STATES },
          flag: { type: 'string', enum: [...RISK_FLAG_IDS] },
          from: timeSchema,
          to: timeSchema,
          ...pageQueryProperties,
        }),
      },
    },
    async (request) => listSessions(ctx, actorOf(request), request.query),
  );

  api.get<{ Querystring: SessionSearchQuery }>(
    '/sessions/search',
    {
      schema: {
        querystring: object(
          {
            q: text(200, 1),
            resourceId: idSchema('res_'),
            userId: idSchema('usr_'),
            from: timeSchema,
            to: timeSchema,
            ...pageQueryProperties,
          },
          ['q'],
        ),
      },
    },
    async (request) => searchSessionLogs(ctx, actorOf(request), request.query),
  );

  api.get<{ Params: { id: string } }>('/sessions/:id', { schema: { params } }, async (request) => {
    const { row } = await findVisibleSession(ctx, actorOf(request), request.params.id);
    return toSessionDto(row, ctx.now());
  });

  api.get<{ Params: { id: string }; Querystring: { limit?: number; cursor?: string } }>(
    '/sessions/:id/logs',
    { schema: { params, querystring: object({ ...pageQueryProperties, limit: { type: 'integer', minimum: 1, maximum: 1000 } }) } },
    async (request) => {
      const { row, isAdmin } = await findVisibleSession(ctx, actorOf(request), request.params.id);
      return listSessionLogs(ctx, row.id, request.query, { includeDetail: isAdmin });
    },
  );

  api.post<{ Params: { id: string } }>('/sessions/:id/relay-tickets', { schema: { params } }, async (request, reply) =>
    reply.code(201).send(await issueTicketFor(deps.access, actorOf(request), request.params.id)),
  );

  api.post<{ Params: { id: string } }>('/sessions/:id/stop', { schema: { params } }, async (request) =>
    deps.sessions.stopByUser(actorOf(request), request.params.id),
  );

  api.post<{ Params: { id: string } }>('/sessions/:id/terminate', { schema: { params } }, async (request) =>
    deps.sessions.terminate(actorOf(request), request.params.id),
  );
}
