/**
 * MFA routes: the caller's own authenticator app (`/me/mfa...`) and a project's enforced method (admin).
 * Registered inside the `/api/v1` scope, after authentication, like the other route modules.
 */
import type { FastifyInstance } from 'fastify';
import type { MfaCodeRequest, MfaMethod, MfaPolicyDto, MfaStatusDto, TotpEnrollmentDto } from '../../protocol/api';
import { actorOf } from '../http/authentication';
import { idParams, object, text } from '../http/schemas';
import { requireRole } from '../services/authorization';
import type { ServiceContext } from '../services/context';
import type { MfaService } from './mfa-service';

export interface MfaRouteDeps {
  ctx: ServiceContext;
  mfa: MfaService;
}

const codeBody = object({ code: text(20, 1) }, ['code']);
const policyBody = object({ enforcedMethod: { type: ['string', 'null'], enum: ['totp', 'email', null] } }, ['enforcedMethod']);

export function registerMfaRoutes(app: FastifyInstance, deps: MfaRouteDeps): void {
  const { ctx, mfa } = deps;

  app.get('/me/mfa', async (request): Promise<MfaStatusDto> => mfa.status(actorOf(request)));

  app.post('/me/mfa/totp', { schema: { body: object({}) } }, async (request): Promise<TotpEnrollmentDto> => {
    return mfa.startTotpEnrollment(actorOf(request));
  });

  app.post<{ Body: MfaCodeRequest }>('/me/mfa/totp/confirm', { schema: { body: codeBody } }, async (request): Promise<MfaStatusDto> => {
    return mfa.confirmTotpEnrollment(actorOf(request), request.body.code);
  });

  app.delete<{ Body: MfaCodeRequest }>('/me/mfa/totp', { schema: { body: codeBody } }, async (request): Promise<MfaStatusDto> => {
    return mfa.removeTotp(actorOf(request), request.body.code);
  });

  app.put<{ Params: { projectId: string }; Body: { enforcedMethod: MfaMethod | null } }>(
    '/projects/:projectId/mfa-policy',
    { schema: { params: idParams('projectId', 'prj_'), body: policyBody } },
    async (request): Promise<MfaPolicyDto> => {
      const actor = actorOf(request);
      await requireRole(ctx, actor, request.params.projectId, 'admin', 'project');
      return mfa.setPolicy(actor, request.params.projectId, request.body.enforcedMethod);
    },
  );
}
