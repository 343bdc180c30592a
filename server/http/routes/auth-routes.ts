/** Sign-in, sign-out and who am I. */
import type { FastifyInstance } from 'fastify';
import type { LoginRequest, MeDto } from '../../../protocol/api';
import { signIn, signOut } from '../../auth/sign-in';
import { listProjects } from '../../services/projects';
import { ServiceError } from '../../services/service-error';
import { findUserById, toUserDto } from '../../services/users';
import type { AppDeps } from '../app-deps';
import { actorOf } from '../authentication';
import { emailSchema, noContentResponse, object, passwordSchema } from '../schemas';

export function authRoutes(api: FastifyInstance, deps: AppDeps): void {
  api.post<{ Body: LoginRequest }>(
    '/auth/login',
    { config: { auth: 'none' }, schema: { body: object({ email: emailSchema, password: passwordSchema }, ['email', 'password']) } },
    async (request) =>
      signIn(deps.ctx, {
        email: request.body.email,
        password: request.body.password,
        clientAddress: request.ip,
        userAgent: request.headers['user-agent'],
      }).catch((error: unknown) => {
        if (error instanceof ServiceError && (error.code === 'unauthenticated' || error.code === 'rate_limited')) {
          deps.metrics.signInFailed(error.code === 'rate_limited' ? 'rate_limited' : 'wrong_credentials');
        }
        throw error;
      }),
  );

  api.post('/auth/logout', { schema: { response: noContentResponse } }, async (request, reply) => {
    await signOut(deps.ctx, actorOf(request).tokenId);
    return reply.code(204).send();
  });

  api.get('/me', async (request): Promise<MeDto> => {
    const actor = actorOf(request);
    const user = await findUserById(deps.ctx.store.db, actor.userId);
    return { user: toUserDto(user!), projects: await listProjects(deps.ctx, actor.userId) };
  });
}
