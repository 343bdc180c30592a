/**
 * The web console's sign-in: the same password check (and limits) as `POST /auth/login`, plus the user's
 * authenticator code when they set one up; the token goes into an HttpOnly cookie instead of the answer, and the
 * page gets the CSRF token it must send with every state-changing request.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ConsoleSessionDto, ConsoleSignInRequest, ConsoleSsoRequest } from '../../../protocol/api';
import { CONSOLE_COOKIE, consoleCookieOptions, csrfTokenFor } from '../../auth/console-cookie';
import { signIn, signOut } from '../../auth/sign-in';
import { listProjects } from '../../services/projects';
import { ServiceError } from '../../services/service-error';
import { findUserById, toUserDto } from '../../services/users';
import type { AppDeps } from '../app-deps';
import { actorOf } from '../authentication';
import { emailSchema, object, passwordSchema, text } from '../schemas';
import { verifierSchema } from './sso-routes';

export function consoleRoutes(api: FastifyInstance, deps: AppDeps): void {
  const { ctx } = deps;
  const secure = ctx.config.tls !== undefined || (ctx.config.publicUrl?.startsWith('https://') ?? false);

  async function sessionOf(userId: string, token: string, expiresAt: string): Promise<ConsoleSessionDto> {
    const user = await findUserById(ctx.store.db, userId);
    if (!user) throw new ServiceError('unauthenticated', 'this user no longer exists: sign in again');
    return { user: toUserDto(user), projects: await listProjects(ctx, userId), csrfToken: csrfTokenFor(token), expiresAt };
  }

  api.post<{ Body: ConsoleSignInRequest }>(
    '/console/sign-in',
    {
      config: { auth: 'none' },
      schema: { body: object({ email: emailSchema, password: passwordSchema, code: text(20) }, ['email', 'password']) },
    },
    async (request, reply) => {
      const { email, password, code } = request.body;
      const signedIn = await signIn(
        ctx,
        { email, password, clientAddress: request.ip, userAgent: request.headers['user-agent'] },
        deps.secondFactor ? (user) => deps.secondFactor!(user, code) : undefined,
      );
      return startSession(reply, signedIn);
    },
  );

  function startSession(
    reply: FastifyReply,
    signedIn: { token: string; expiresAt: string; user: { id: string } },
  ): Promise<ConsoleSessionDto> {
    reply.setCookie(CONSOLE_COOKIE, signedIn.token, consoleCookieOptions(secure, ctx.config.tokenTtlSeconds));
    reply.header('cache-control', 'no-store');
    return sessionOf(signedIn.user.id, signedIn.token, signedIn.expiresAt);
  }

  const sso = deps.sso;
  if (sso) {
    // Only when single sign-on is on (like /auth/sso/*): the same exchange as `POST /auth/sso/token` (one-time code
    // and PKCE verifier), but the token goes into the cookie like a password sign-in's.
    api.post<{ Body: ConsoleSsoRequest }>(
      '/console/sso',
      {
        config: { auth: 'none' },
        schema: {
          body: object({ code: text(200, 1), codeVerifier: verifierSchema, authenticatorCode: text(20) }, ['code', 'codeVerifier']),
        },
      },
      async (request, reply) => {
        const { code, codeVerifier, authenticatorCode } = request.body;
        const signedIn = await sso.exchange(
          { code, codeVerifier },
          request.headers['user-agent'],
          // As at the password sign-in, unless the provider asserted MFA and the server accepts it (amr/acr).
          deps.secondFactor ? (user, idpMfa) => (idpMfa ? Promise.resolve() : deps.secondFactor!(user, authenticatorCode)) : undefined,
        );
        return startSession(reply, signedIn);
      },
    );
  }

  // Also for a bearer token (its CSRF token is no secret to whoever holds the token): one answer for every caller.
  api.get('/console/session', async (request, reply): Promise<ConsoleSessionDto> => {
    reply.header('cache-control', 'no-store');
    const token = request.signInToken!;
    const expiresAt = await tokenExpiry(actorOf(request).tokenId);
    return sessionOf(actorOf(request).userId, token, expiresAt);
  });

  api.post('/console/sign-out', async (request, reply: FastifyReply) => {
    await signOut(ctx, actorOf(request).tokenId);
    reply.clearCookie(CONSOLE_COOKIE, consoleCookieOptions(secure, 0));
    return reply.code(204).send();
  });

  async function tokenExpiry(tokenId: string): Promise<string> {
    const row = await ctx.store.db.selectFrom('api_tokens').select('expires_at').where('id', '=', tokenId).executeTakeFirstOrThrow();
    return row.expires_at;
  }
}
