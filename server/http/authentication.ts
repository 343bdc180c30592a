/**
 * Authentication, run on every request before its body is read (so an anonymous caller gets 401, never a
 * validation error): a bearer token (CLI, extension, scripts), or else the web console's cookie, which for a
 * state-changing request must come with its CSRF header (server/auth/console-cookie.ts). Routes opt out with
 * `config: { auth: 'none' }`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { API_PREFIX } from '../../protocol/api';
import { CONSOLE_COOKIE, CSRF_HEADER, csrfTokenMatches, SAFE_METHODS } from '../auth/console-cookie';
import { type AuthenticatedUser, authenticateToken } from '../auth/sign-in';
import type { ServiceContext } from '../services/context';
import { ServiceError } from '../services/service-error';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `none`: no sign-in needed; `metrics`: the route checks the metrics token itself. Default: a user's bearer token (or the console's cookie). */
    auth?: 'none' | 'user' | 'metrics';
  }
  interface FastifyRequest {
    user?: AuthenticatedUser;
    /** The sign-in token the request presented (bearer or console cookie), once authenticated. */
    signInToken?: string;
  }
}

const NOT_SIGNED_IN = 'sign in first: send Authorization: Bearer <token> (from POST /api/v1/auth/login)';
const NO_CSRF =
  "this request carries the console's sign-in cookie but not its CSRF token (X-CSRF-Token header): reload the console page and try again";

/** The sign-in token of a request: its Authorization header, else the console cookie (checked for CSRF). */
function presentedToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new ServiceError('unauthenticated', NOT_SIGNED_IN);
    return match[1];
  }
  const cookie = request.cookies?.[CONSOLE_COOKIE];
  if (!cookie) throw new ServiceError('unauthenticated', NOT_SIGNED_IN);
  if (!SAFE_METHODS.has(request.method) && !csrfTokenMatches(cookie, request.headers[CSRF_HEADER])) {
    throw new ServiceError('forbidden', NO_CSRF);
  }
  return cookie;
}

export function addAuthentication(app: FastifyInstance, ctx: ServiceContext): void {
  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config?.auth;
    if (auth === 'none' || auth === 'metrics' || request.routeOptions.url === undefined) return;
    // Outside the API are only the console's own files, which anyone may load (the sign-in page is one of them).
    if (!request.routeOptions.url.startsWith(`${API_PREFIX}/`)) return;
    const token = presentedToken(request);
    const user = await authenticateToken(ctx, token);
    if (!user) throw new ServiceError('unauthenticated', 'the sign-in token is expired, revoked or unknown: sign in again');
    request.user = user;
    request.signInToken = token;
  });
}

/** The signed-in user of a route that requires one. */
export function actorOf(request: FastifyRequest): AuthenticatedUser {
  if (!request.user) throw new ServiceError('unauthenticated', NOT_SIGNED_IN);
  return request.user;
}
