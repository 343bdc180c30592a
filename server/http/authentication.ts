/**
 * Bearer-token authentication, run on every request before its body is read (so an anonymous caller gets 401,
 * never a validation error). Routes opt out with `config: { auth: 'none' }`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type AuthenticatedUser, authenticateToken } from '../auth/sign-in';
import type { ServiceContext } from '../services/context';
import { ServiceError } from '../services/service-error';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `none`: no sign-in needed; `metrics`: the route checks the metrics token itself. Default: a user's bearer token. */
    auth?: 'none' | 'user' | 'metrics';
  }
  interface FastifyRequest {
    user?: AuthenticatedUser;
  }
}

const NOT_SIGNED_IN = 'sign in first: send Authorization: Bearer <token> (from POST /api/v1/auth/login)';

export function addAuthentication(app: FastifyInstance, ctx: ServiceContext): void {
  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config?.auth;
    if (auth === 'none' || auth === 'metrics' || request.routeOptions.url === undefined) return;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new ServiceError('unauthenticated', NOT_SIGNED_IN);
    const user = await authenticateToken(ctx, match[1]);
    if (!user) throw new ServiceError('unauthenticated', 'the sign-in token is expired, revoked or unknown: sign in again');
    request.user = user;
  });
}

/** The signed-in user of a route that requires one. */
export function actorOf(request: FastifyRequest): AuthenticatedUser {
  if (!request.user) throw new ServiceError('unauthenticated', NOT_SIGNED_IN);
  return request.user;
}
