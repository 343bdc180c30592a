/**
 * A real OpenID Provider for the single sign-on tests: the certified `oidc-provider` package on a free loopback
 * port, with test users and groups. Its login page is this bed's (oidc-provider leaves the login screen to whoever
 * deploys it): it checks the user's password and, for users with a second factor, a one-time code, and reports how
 * the user authenticated (`amr`: pwd, or pwd + otp + mfa). Consent is granted for the first-party client without a
 * prompt, as a company's provider does for its own apps.
 *
 * `tamperTokenResponse` lets a test play the attacker on the token response (altering or swapping the ID token);
 * `mintIdToken` has the provider itself sign an ID token for another of its clients (a real token, wrong audience).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { freePort } from './ports';

export interface IdpUser {
  /** The `sub`, and what is typed in the login field. */
  login: string;
  password: string;
  email: string;
  name: string;
  groups: string[];
  /** When set, the login page asks for this code too, and the sign-in asserts MFA (amr includes "mfa"). */
  otp?: string;
  emailVerified?: boolean;
}

export interface IdpClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export type TokenResponse = Record<string, unknown> & { id_token?: string };

export interface TestIdp {
  issuer: string;
  users: Map<string, IdpUser>;
  /** Replace a user's groups (what an admin of the provider does when removing someone from a group). */
  setGroups(login: string, groups: string[]): void;
  /** Called with each token response before it leaves the provider; return what to send instead. */
  tamperTokenResponse?: (body: TokenResponse, ctx: KoaContextWithOIDC) => Promise<TokenResponse> | TokenResponse;
  /** Signs an ID token with the provider's own keys for `clientId`, with these claims. */
  mintIdToken(ctx: KoaContextWithOIDC, clientId: string, claims: Record<string, unknown>): Promise<string>;
  stop(): Promise<void>;
}

export const IDP_SCOPES = 'openid email profile groups';

export async function startTestIdp(options: { users: IdpUser[]; clients: IdpClient[] }): Promise<TestIdp> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const users = new Map(options.users.map((u) => [u.login, { ...u }]));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const configuration: Configuration = {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    jwks: { keys: [jwk as never] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    // How the user authenticated travels with the openid scope, so it reaches the ID token like a real provider's.
    claims: { openid: ['sub', 'amr', 'acr', 'auth_time'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, id) {
      const user = users.get(id);
      if (!user) return undefined;
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          email: user.email,
          email_verified: user.emailVerified ?? true,
          name: user.name,
          groups: [...user.groups],
        }),
      };
    },
    // First-party client: consent is given without a prompt (the recipe from oidc-provider's documentation).
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session?.grantIdFor(ctx.oidc.client?.clientId ?? '');
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client?.clientId, accountId: ctx.oidc.session?.accountId });
      grant.addOIDCScope(IDP_SCOPES);
      await grant.save();
      return grant;
    },
  };
  const provider = new Provider(issuer, configuration);
  const idp: TestIdp = {
    issuer,
    users,
    setGroups(login, groups) {
      const user = users.get(login);
      if (!user) throw new Error(`no test user ${login}`);
      user.groups = [...groups];
    },
    async mintIdToken(ctx, clientId, claims) {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error(`no client ${clientId}`);
      const token = new provider.IdToken({ ...claims }, { ctx, client });
      for (const [key, value] of Object.entries(claims)) token.set(key, value);
      return (await token.issue({ use: 'idtoken' })) as string;
    },
    stop: async () => {},
  };
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method === 'POST' && ctx.path === '/token' && ctx.status === 200 && idp.tamperTokenResponse && ctx.body) {
      ctx.body = await idp.tamperTokenResponse({ ...(ctx.body as TokenResponse) }, ctx as KoaContextWithOIDC);
    }
  });
  const handler = provider.callback();
  const server = http.createServer((req, res) => {
    const match = /^\/interaction\/([^/?]+)(\/login)?/.exec(req.url ?? '');
    if (!match) return void handler(req, res);
    loginPage(provider, users, req, res, match[1], Boolean(match[2])).catch((error: Error) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`login page error: ${error.message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  idp.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return idp;
}

async function loginPage(
  provider: Provider,
  users: Map<string, IdpUser>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  uid: string,
  submitted: boolean,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (!submitted) return render(res, uid, '');
  const form = new URLSearchParams(await readBody(req));
  const user = users.get(form.get('login') ?? '');
  if (!user || user.password !== form.get('password')) return render(res, uid, 'Wrong user name or password.');
  if (user.otp !== undefined && form.get('otp') !== user.otp) return render(res, uid, 'Wrong one-time code.');
  const amr = user.otp !== undefined ? ['pwd', 'otp', 'mfa'] : ['pwd'];
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.login, amr, acr: amr.includes('mfa') ? 'mfa' : 'pwd' } },
    { mergeWithLastSubmission: false },
  );
}

function render(res: http.ServerResponse, uid: string, error: string): void {
  res.writeHead(error ? 401 : 200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><head><title>Test IdP sign-in</title></head><body>
<h1>Sign in to the test identity provider</h1>${error ? `<p role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label>User <input name="login" autocomplete="username"></label>
<label>Password <input name="password" type="password"></label>
<label>One-time code (if you have one) <input name="otp"></label>
<button type="submit">Sign in</button></form></body></html>`);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 10_000) req.destroy();
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
