/**
 * For the single sign-on tests: a real OpenID Provider (test/bed/oidc-provider.ts) with test users and groups, a
 * control plane that trusts it, and Chromium (Playwright) typing into the provider's login page, as a person does.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { ControlPlaneConfig } from '../../server/config';
import { parseGroupMap, resolveSsoConfig } from '../../server/sso/sso-config';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../bed/code-server';
import { IDP_SCOPES, type IdpUser, startTestIdp, type TestIdp } from '../bed/oidc-provider';
import { freePort } from '../bed/ports';
import { type ApiDialect, type ApiServer, startApiServer } from './api-harness';

export const SSO_CLIENT = Object.freeze({ clientId: 'portcullis', clientSecret: 'test-client-secret-of-portcullis' });
/** Another application registered at the same provider (its ID tokens are not for Portcullis). */
export const OTHER_CLIENT = Object.freeze({ clientId: 'wiki', clientSecret: 'test-client-secret-of-the-wiki' });

export const SSO_USERS: Readonly<Record<'alice' | 'bob' | 'carol', IdpUser>> = Object.freeze({
  /** A developer: member of the default project. */
  alice: { login: 'alice', password: 'alice-idp-password', email: 'alice@example.com', name: 'Alice', groups: ['developers'] },
  /** A platform admin who signs in with a second factor at the provider. */
  bob: {
    login: 'bob',
    password: 'bob-idp-password',
    email: 'bob@example.com',
    name: 'Bob',
    groups: ['platform-admins', 'developers'],
    otp: '424242',
  },
  /** In no group Portcullis knows. */
  carol: { login: 'carol', password: 'carol-idp-password', email: 'carol@example.com', name: 'Carol', groups: ['marketing'] },
});

export const GROUP_MAP = 'platform-admins=default:admin; developers=default:member';

export interface SsoWorld {
  idp: TestIdp;
  server: ApiServer;
  browser: Browser;
  close(): Promise<void>;
}

export async function startSsoWorld(
  dialect: ApiDialect = 'sqlite',
  overrides: Partial<ControlPlaneConfig> = {},
  sso: {
    acceptIdpMfa?: boolean;
    mfaMaxAgeSeconds?: number;
    passwordSignIn?: boolean;
    extraUsers?: IdpUser[];
    redirectOrigins?: string[];
  } = {},
): Promise<SsoWorld> {
  const port = await freePort();
  const callback = `http://${overrides.listenHost ?? '127.0.0.1'}:${port}/api/v1/auth/sso/callback`;
  const idp = await startTestIdp({
    users: [...Object.values(SSO_USERS), ...(sso.extraUsers ?? [])],
    clients: [
      { ...SSO_CLIENT, redirectUris: [callback] },
      { ...OTHER_CLIENT, redirectUris: ['http://127.0.0.1:9/wiki/callback'] },
    ],
  });
  let server: ApiServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startApiServer(dialect, {
      listenPort: port,
      gatewayHeartbeatSeconds: 3600,
      sso: resolveSsoConfig({
        issuer: idp.issuer,
        ...SSO_CLIENT,
        scopes: IDP_SCOPES.split(' '),
        groupMap: parseGroupMap(GROUP_MAP),
        acceptIdpMfa: sso.acceptIdpMfa ?? false,
        ...(sso.mfaMaxAgeSeconds ? { mfaMaxAgeSeconds: sso.mfaMaxAgeSeconds } : {}),
        passwordSignIn: sso.passwordSignIn ?? true,
        redirectOrigins: sso.redirectOrigins,
      }),
      ...overrides,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
  } catch (error) {
    await server?.close();
    await idp.stop();
    throw error;
  }
  const started = { server, browser };
  return {
    idp,
    ...started,
    async close() {
      await started.browser.close();
      await started.server.close();
      await idp.stop();
    },
  };
}

/** A PKCE pair (RFC 7636), as a client makes one. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Types the user's name, password (and code) into the provider's login page shown in `page`. */
export async function fillIdpLogin(page: Page, user: IdpUser, options: { password?: string } = {}): Promise<void> {
  await page.locator('input[name="login"]').waitFor({ timeout: 20_000 });
  await page.fill('input[name="login"]', user.login);
  await page.fill('input[name="password"]', options.password ?? user.password);
  if (user.otp) await page.fill('input[name="otp"]', user.otp);
  await page.click('button[type="submit"]');
}

/** A loopback listener standing for a client's redirect URI: records the query the browser arrives with. */
export async function startRedirectReceiver(): Promise<{ uri: string; next(): Promise<URLSearchParams>; close(): Promise<void> }> {
  const waiting: Array<(query: URLSearchParams) => void> = [];
  const arrived: URLSearchParams[] = [];
  const server = http.createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('received');
    const waiter = waiting.shift();
    if (waiter) waiter(query);
    else arrived.push(query);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    uri: `http://127.0.0.1:${port}/done`,
    next: () => {
      const ready = arrived.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A whole browser sign-in as a client drives it: start (with a redirect URI and PKCE), the provider's login page,
 * the callback, and the browser's arrival at the redirect URI; then the code exchange. Returns the exchange's answer
 * and the callback URL the browser passed through (to replay it).
 */
export async function ssoSignIn(
  world: SsoWorld,
  user: IdpUser,
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the exchange answers
): Promise<{ status: number; body: Record<string, any>; callbackUrl: string; code: string | null; verifier: string }> {
  const receiver = await startRedirectReceiver();
  const context = await world.browser.newContext();
  try {
    const page = await context.newPage();
    const { verifier, challenge } = pkcePair();
    let callbackUrl = '';
    page.on('request', (request) => {
      if (request.url().includes('/api/v1/auth/sso/callback')) callbackUrl = request.url();
    });
    const start = `${world.server.base}/auth/sso/start?${new URLSearchParams({ redirect_uri: receiver.uri, code_challenge: challenge, state: 'client-state-1' })}`;
    const arrived = receiver.next();
    await page.goto(start);
    await fillIdpLogin(page, user);
    const query = await arrived;
    if (query.get('state') !== 'client-state-1') throw new Error(`the client's state did not come back: ${query}`);
    const code = query.get('code');
    const result = await world.server.call('POST', '/auth/sso/token', { body: { code, codeVerifier: verifier } });
    return { status: result.status, body: result.body, callbackUrl, code, verifier };
  } finally {
    await context.close();
    await receiver.close();
  }
}
