/**
 * The web console's sign-in cookie and its CSRF token. The cookie carries the same sign-in token a CLI gets
 * (HttpOnly, so page scripts never see it; SameSite=Strict; Secure over HTTPS). A cookie is sent by the browser on
 * its own, also for requests another page starts, so a state-changing request signed in by the cookie must also
 * carry the CSRF token in a header: a value derived from the sign-in token, which only pages of this origin can
 * read (from the sign-in answer or `GET /console/session`; no CORS, so other origins cannot).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { API_PREFIX } from '../../protocol/api';

export const CONSOLE_COOKIE = 'portcullis_console';
export const CSRF_HEADER = 'x-csrf-token';

/** Methods that change nothing, sent without the CSRF header. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The CSRF token of a sign-in token: an HMAC under a key only the token's holder (the server, via the cookie) has. */
export function csrfTokenFor(signInToken: string): string {
  const key = createHash('sha256').update(`portcullis-console-csrf:${signInToken}`).digest();
  return createHmac('sha256', key).update('csrf').digest('base64url');
}

export function csrfTokenMatches(signInToken: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > 100) return false;
  const expected = Buffer.from(csrfTokenFor(signInToken));
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Options of the console cookie (@fastify/cookie). Its path is the API: the pages themselves never need it. */
export function consoleCookieOptions(secure: boolean, maxAgeSeconds: number) {
  return { path: API_PREFIX, httpOnly: true, sameSite: 'strict', secure, maxAge: maxAgeSeconds } as const;
}
