/**
 * Access requests (server/sessions/access-requests.ts): the admins' inbox and the requester's own, waiting on one,
 * approve, deny (admins other than the requester) and cancel (the requester).
 */
import type { FastifyInstance } from 'fastify';
import type { AccessRequestState, ApproveAccessRequest, DenyAccessRequest } from '../../../protocol/api';
import {
  type AccessRequestFilters,
  decideAccessRequest,
  getAccessRequest,
  listAccessRequests,
  MAX_WAIT_SECONDS,
} from '../../sessions/access-requests';
import type { AppDeps } from '../app-deps';
import { actorOf } from '../authentication';
import { booleanSchema, idParams, idSchema, object, pageQueryProperties, text } from '../schemas';

const STATES: AccessRequestState[] = ['pending', 'approved', 'denied', 'cancelled', 'expired'];

export function accessRequestRoutes(api: FastifyInstance, deps: AppDeps): void {
  const { ctx } = deps;
  const notify = deps.access.notify;
  const params = idParams('id', 'req_');

  api.get<{ Querystring: AccessRequestFilters }>(
    '/access-requests',
    {
      schema: {
        querystring: object({
          projectId: idSchema('prj_'),
          state: { type: 'string', enum: STATES },
          mine: booleanSchema,
          ...pageQueryProperties,
        }),
      },
    },
    async (request) => listAccessRequests(ctx, actorOf(request), request.query),
  );

  api.get<{ Params: { id: string }; Querystring: { wait?: number } }>(
    '/access-requests/:id',
    { schema: { params, querystring: object({ wait: { type: 'integer', minimum: 0, maximum: MAX_WAIT_SECONDS } }) } },
    async (request) => {
      // A client that goes away stops the wait.
      let gone = false;
      request.raw.once('close', () => {
        gone = true;
      });
      return getAccessRequest(ctx, actorOf(request), request.params.id, request.query.wait ?? 0, () => gone);
    },
  );

  api.post<{ Params: { id: string }; Body: ApproveAccessRequest | undefined }>(
    '/access-requests/:id/approve',
    {
      schema: {
        params,
        body: object({ note: text(500), durationSeconds: { type: 'integer', minimum: 60, maximum: 7 * 86400 } }),
      },
    },
    async (request) =>
      decideAccessRequest(ctx, notify, actorOf(request), request.params.id, { kind: 'approve', input: request.body ?? {} }),
  );

  api.post<{ Params: { id: string }; Body: DenyAccessRequest | undefined }>(
    '/access-requests/:id/deny',
    { schema: { params, body: object({ note: text(500) }) } },
    async (request) => decideAccessRequest(ctx, notify, actorOf(request), request.params.id, { kind: 'deny', input: request.body ?? {} }),
  );

  api.post<{ Params: { id: string } }>('/access-requests/:id/cancel', { schema: { params } }, async (request) =>
    decideAccessRequest(ctx, notify, actorOf(request), request.params.id, { kind: 'cancel' }),
  );
}
