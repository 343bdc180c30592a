/**
 * Single sign-on under /auth/sso (server/sso/): how this server signs people in, the browser's steps (start,
 * callback, device verification) and the client's (device start, token). The browser's steps answer with
 * redirects, or a short page where there is nowhere to redirect to.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_PREFIX, type SignInMethodsDto, type SsoLoginResponse, type SsoTokenRequest } from '../../../protocol/api';
import type { BrowserAnswer } from '../../sso/sso-service';
import type { AppDeps } from '../app-deps';
import { object, text } from '../schemas';

// RFC 7636: a verifier is 43 to 128 characters; its S256 challenge is 43 characters of base64url.
const challengeSchema = { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' };
export const verifierSchema = { type: 'string', pattern: '^[A-Za-z0-9._~-]{43,128}$' };

export const SSO_PATHS = Object.freeze({
  methods: '/auth/sso',
  start: '/auth/sso/start',
  callback: '/auth/sso/callback',
  device: '/auth/sso/device',
  deviceVerify: '/auth/sso/device/verify',
  token: '/auth/sso/token',
});

export function ssoRoutes(api: FastifyInstance, deps: AppDeps): void {
  const sso = deps.sso;
  api.get(SSO_PATHS.methods, { config: { auth: 'none' } }, async (): Promise<SignInMethodsDto> => {
    return sso ? sso.methods() : { password: true, sso: { enabled: false } };
  });
  if (!sso) return;
  const base = (request: FastifyRequest) => (deps.ctx.config.publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/$/, '');
  const callbackUrl = (request: FastifyRequest) => `${base(request)}${API_PREFIX}${SSO_PATHS.callback}`;

  api.get<{ Querystring: { redirect_uri: string; code_challenge: string; state?: string } }>(
    SSO_PATHS.start,
    {
      config: { auth: 'none' },
      schema: {
        querystring: object(
          { redirect_uri: text(2000, 1), code_challenge: challengeSchema, code_challenge_method: { enum: ['S256'] }, state: text(500) },
          ['redirect_uri', 'code_challenge'],
        ),
      },
    },
    async (request, reply) => {
      const location = await sso.start({
        redirectUri: request.query.redirect_uri,
        codeChallenge: request.query.code_challenge,
        clientState: request.query.state,
        callbackUrl: callbackUrl(request),
        // The public URL's origin (or the address it was reached at): the web console sends itself as redirect_uri.
        ownOrigin: new URL(base(request)).origin,
      });
      return reply.redirect(location, 302);
    },
  );

  // Its URL carries the provider's authorization code: the request log (info) leaves it out; warnings still show.
  api.get(SSO_PATHS.callback, { config: { auth: 'none' }, logLevel: 'warn' }, async (request, reply) => {
    const url = new URL(request.url, 'http://callback.invalid');
    return answerBrowser(reply, await sso.callback(url, request.headers['user-agent']));
  });

  api.post(SSO_PATHS.device, { config: { auth: 'none' } }, async (request, reply) =>
    reply.code(201).send(await sso.startDevice(`${base(request)}${API_PREFIX}${SSO_PATHS.deviceVerify}`)),
  );

  api.get<{ Querystring: { user_code: string } }>(
    SSO_PATHS.deviceVerify,
    { config: { auth: 'none' }, schema: { querystring: object({ user_code: text(20, 1) }, ['user_code']) } },
    async (request, reply) => answerBrowser(reply, await sso.verifyDevice(request.query.user_code, callbackUrl(request))),
  );

  api.post<{ Body: SsoTokenRequest }>(
    SSO_PATHS.token,
    {
      config: { auth: 'none' },
      schema: {
        body: {
          oneOf: [
            object({ code: text(200, 1), codeVerifier: verifierSchema }, ['code', 'codeVerifier']),
            object({ deviceCode: text(200, 1) }, ['deviceCode']),
          ],
        },
      },
    },
    async (request): Promise<SsoLoginResponse> => sso.exchange(request.body, request.headers['user-agent']),
  );
}

function answerBrowser(reply: FastifyReply, answer: BrowserAnswer): FastifyReply {
  if ('redirect' in answer) return reply.redirect(answer.redirect, 302);
  const { status, title, text } = answer.page;
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)} · Portcullis</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`;
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'")
    .send(html);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
