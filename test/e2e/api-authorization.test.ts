/**
 * The authorization matrix: every route the API registers must have an entry here, and each entry is called as
 * an anonymous client, as the admin of another project (outsider), as a project member and as a project admin.
 * Policy: anonymous -> 401; outsider -> 404 (existence not revealed); member -> 403 on admin routes; allowed ones
 * succeed with the entry's status.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { TOTP_PERIOD_SECONDS, totpCode } from '../../server/mfa/totp';
import { accessBody } from '../bed/tunnel-key';
import { type ApiServer, describeApi, MEMBER_PASSWORD, seedWorld, type World } from './api-harness';

type Caller = 'anonymous' | 'outsider' | 'member' | 'admin';
/**
 * anyone: no sign-in. signedIn: any signed-in user. member: members and admins of the project.
 * admin: admins only. owner: the session's own user only (the member here; the admin gets 403).
 */
type Who = 'anyone' | 'signedIn' | 'member' | 'admin' | 'owner';

interface Prepared {
  path: string;
  body?: unknown;
  /** Use this token instead of the caller's usual one (e.g. a fresh one for sign-out). */
  token?: string;
}

interface Entry {
  who: Who;
  ok: number;
  prepare(w: World, server: ApiServer, caller: Caller): Promise<Prepared>;
}

const totpSecrets = new Map<Caller, string>();
const serverNow = (s: ApiServer) => Date.now() + s.clock.offsetMs;

async function startTotp(w: World, s: ApiServer, caller: Caller): Promise<string> {
  return (await ok(s.call('POST', '/me/mfa/totp', { token: tokenOf(w, caller), body: {} }), 200)).secret;
}

let uniq = 0;
const unique = (prefix: string) => `${prefix}-${++uniq}`;

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON an endpoint answers
async function ok<T = any>(promise: Promise<{ status: number; body: T }>, status: number): Promise<T> {
  const result = await promise;
  assert.equal(result.status, status, JSON.stringify(result.body));
  return result.body;
}

async function memberSession(w: World, s: ApiServer): Promise<string> {
  const access = await ok(s.call('POST', `/accounts/${w.account.id}/access`, { token: w.memberToken, body: accessBody() }), 201);
  return access.session.id;
}

/** A pending access request of the member's, on a fresh account that requires approval. */
async function memberRequest(w: World, s: ApiServer): Promise<string> {
  const body = { name: unique('approved'), username: 'u', password: 'p', policy: { approvalRequired: true } };
  const account = await ok(s.call('POST', `/resources/${w.resource.id}/accounts`, { token: w.adminToken, body }), 201);
  const answer = await ok(
    s.call('POST', `/accounts/${account.id}/access`, { token: w.memberToken, body: accessBody({ reason: 'matrix' }) }),
    202,
  );
  return answer.request.id;
}

async function freshResource(w: World, s: ApiServer): Promise<string> {
  const body = { projectId: w.projectId, name: unique('tmp'), gatewayId: w.gateway.gatewayId, connectionString: 'mongodb://tmp:27017' };
  return (await ok(s.call('POST', '/resources', { token: w.adminToken, body }), 201)).id;
}

const tokenOf = (w: World, caller: Caller): string | undefined =>
  caller === 'admin' ? w.adminToken : caller === 'member' ? w.memberToken : caller === 'outsider' ? w.outsiderToken : undefined;

const MATRIX: Record<string, Entry> = {
  'GET /api/v1/health': { who: 'anyone', ok: 200, prepare: async () => ({ path: '/health' }) },
  'GET /api/v1/openapi.json': { who: 'anyone', ok: 200, prepare: async () => ({ path: '/openapi.json' }) },
  // Outside /api/v1; with no metrics token configured (as here) it does not exist for anyone.
  'GET /metrics': { who: 'anyone', ok: 404, prepare: async () => ({ path: '/../../metrics' }) },
  'POST /api/v1/auth/login': {
    who: 'anyone',
    ok: 200,
    prepare: async (w, s, caller) => ({
      path: '/auth/login',
      body:
        caller === 'admin' || caller === 'anonymous'
          ? { email: s.bootstrap.email, password: s.bootstrap.password }
          : { email: caller === 'member' ? w.memberEmail : w.outsiderEmail, password: MEMBER_PASSWORD },
    }),
  },
  // Which sign-in methods the server offers (single sign-on is off here: its other routes are not registered).
  'GET /api/v1/auth/sso': { who: 'anyone', ok: 200, prepare: async () => ({ path: '/auth/sso' }) },
  'POST /api/v1/auth/logout': {
    who: 'signedIn',
    ok: 204,
    prepare: async (w, s, caller) => {
      if (caller === 'anonymous') return { path: '/auth/logout' };
      const email = caller === 'admin' ? s.bootstrap.email : caller === 'member' ? w.memberEmail : w.outsiderEmail;
      const password = caller === 'admin' ? s.bootstrap.password : MEMBER_PASSWORD;
      return { path: '/auth/logout', token: await s.login(email, password) };
    },
  },
  'GET /api/v1/me': { who: 'signedIn', ok: 200, prepare: async () => ({ path: '/me' }) },
  // The web console's sign-in (its cookie and CSRF rules are tested in test/e2e/console-*.test.ts).
  'POST /api/v1/console/sign-in': {
    who: 'anyone',
    ok: 200,
    prepare: async (w, s, caller) => ({
      path: '/console/sign-in',
      body:
        caller === 'admin' || caller === 'anonymous'
          ? { email: s.bootstrap.email, password: s.bootstrap.password }
          : { email: caller === 'member' ? w.memberEmail : w.outsiderEmail, password: MEMBER_PASSWORD },
    }),
  },
  'GET /api/v1/console/session': { who: 'signedIn', ok: 200, prepare: async () => ({ path: '/console/session' }) },
  'POST /api/v1/console/sign-out': {
    who: 'signedIn',
    ok: 204,
    prepare: async (w, s, caller) => {
      if (caller === 'anonymous') return { path: '/console/sign-out' };
      const email = caller === 'admin' ? s.bootstrap.email : caller === 'member' ? w.memberEmail : w.outsiderEmail;
      const password = caller === 'admin' ? s.bootstrap.password : MEMBER_PASSWORD;
      return { path: '/console/sign-out', token: await s.login(email, password) };
    },
  },
  'GET /api/v1/projects': { who: 'signedIn', ok: 200, prepare: async () => ({ path: '/projects' }) },
  'POST /api/v1/projects': { who: 'signedIn', ok: 201, prepare: async () => ({ path: '/projects', body: { name: unique('project') } }) },
  'GET /api/v1/projects/:projectId/members': {
    who: 'admin',
    ok: 200,
    prepare: async (w) => ({ path: `/projects/${w.projectId}/members` }),
  },
  'POST /api/v1/projects/:projectId/members': {
    who: 'admin',
    ok: 201,
    prepare: async (w) => ({
      path: `/projects/${w.projectId}/members`,
      body: { email: `${unique('new')}@example.com`, role: 'member', password: MEMBER_PASSWORD },
    }),
  },
  'PATCH /api/v1/projects/:projectId/members/:userId': {
    who: 'admin',
    ok: 200,
    prepare: async (w) => ({ path: `/projects/${w.projectId}/members/${w.member.userId}`, body: { role: 'member' } }),
  },
  'DELETE /api/v1/projects/:projectId/members/:userId': {
    who: 'admin',
    ok: 204,
    prepare: async (w, s) => {
      const added = await s.call('POST', `/projects/${w.projectId}/members`, {
        token: w.adminToken,
        body: { email: w.spareEmail, role: 'member' },
      });
      assert.ok(added.status === 201 || added.status === 409, JSON.stringify(added.body));
      return { path: `/projects/${w.projectId}/members/${w.spareUserId}` };
    },
  },
  'GET /api/v1/projects/:projectId/audit': { who: 'admin', ok: 200, prepare: async (w) => ({ path: `/projects/${w.projectId}/audit` }) },
  'POST /api/v1/gateways/enrollment-tokens': {
    who: 'admin',
    ok: 201,
    prepare: async (w) => ({ path: '/gateways/enrollment-tokens', body: { projectId: w.projectId, name: unique('gw') } }),
  },
  // Authenticated by the enrollment token in the body, not by a user: every caller with a valid token enrolls.
  'POST /api/v1/gateway/enroll': {
    who: 'anyone',
    ok: 201,
    prepare: async (w, s) => {
      const token = await ok(s.call('POST', '/gateways/enrollment-tokens', { token: w.adminToken, body: { projectId: w.projectId } }), 201);
      return { path: '/gateway/enroll', body: { token: token.token } };
    },
  },
  'GET /api/v1/gateways': { who: 'admin', ok: 200, prepare: async (w) => ({ path: `/gateways?projectId=${w.projectId}` }) },
  'DELETE /api/v1/gateways/:id': {
    who: 'admin',
    ok: 204,
    prepare: async (w, s) => {
      const token = await ok(s.call('POST', '/gateways/enrollment-tokens', { token: w.adminToken, body: { projectId: w.projectId } }), 201);
      const gateway = await ok(s.call('POST', '/gateway/enroll', { body: { token: token.token } }), 201);
      return { path: `/gateways/${gateway.gatewayId}` };
    },
  },
  'GET /api/v1/resources': { who: 'member', ok: 200, prepare: async (w) => ({ path: `/resources?projectId=${w.projectId}` }) },
  'POST /api/v1/resources': {
    who: 'admin',
    ok: 201,
    prepare: async (w) => ({
      path: '/resources',
      body: { projectId: w.projectId, name: unique('res'), gatewayId: w.gateway.gatewayId, connectionString: 'mongodb://a:27017,b:27017' },
    }),
  },
  'GET /api/v1/resources/:id': { who: 'member', ok: 200, prepare: async (w) => ({ path: `/resources/${w.resource.id}` }) },
  'PATCH /api/v1/resources/:id': {
    who: 'admin',
    ok: 200,
    prepare: async (w) => ({ path: `/resources/${w.resource.id}`, body: { tlsRejectUnauthorized: true } }),
  },
  'DELETE /api/v1/resources/:id': {
    who: 'admin',
    ok: 204,
    prepare: async (w, s) => ({ path: `/resources/${await freshResource(w, s)}` }),
  },
  'GET /api/v1/resources/:id/accounts': {
    who: 'member',
    ok: 200,
    prepare: async (w) => ({ path: `/resources/${w.resource.id}/accounts` }),
  },
  'POST /api/v1/resources/:id/accounts': {
    who: 'admin',
    ok: 201,
    prepare: async (w) => ({ path: `/resources/${w.resource.id}/accounts`, body: { name: unique('acc'), username: 'u', password: 'p' } }),
  },
  'GET /api/v1/accounts/:id': { who: 'member', ok: 200, prepare: async (w) => ({ path: `/accounts/${w.account.id}` }) },
  'PATCH /api/v1/accounts/:id': {
    who: 'admin',
    ok: 200,
    prepare: async (w) => ({ path: `/accounts/${w.account.id}`, body: { description: 'x' } }),
  },
  'DELETE /api/v1/accounts/:id': {
    who: 'admin',
    ok: 204,
    prepare: async (w, s) => {
      const body = { name: unique('acc'), username: 'u', password: 'p' };
      const account = await ok(s.call('POST', `/resources/${w.resource.id}/accounts`, { token: w.adminToken, body }), 201);
      return { path: `/accounts/${account.id}` };
    },
  },
  'POST /api/v1/accounts/:id/access': {
    who: 'member',
    ok: 201,
    prepare: async (w) => ({ path: `/accounts/${w.account.id}/access`, body: accessBody() }),
  },
  'GET /api/v1/sessions': { who: 'member', ok: 200, prepare: async (w) => ({ path: `/sessions?projectId=${w.projectId}` }) },
  // Searches only the sessions the caller may see: an outsider gets an empty page, not an error.
  'GET /api/v1/sessions/search': { who: 'signedIn', ok: 200, prepare: async () => ({ path: '/sessions/search?q=find' }) },
  // The member's own session: visible to them and to the project's admins.
  'GET /api/v1/sessions/:id': { who: 'member', ok: 200, prepare: async (w, s) => ({ path: `/sessions/${await memberSession(w, s)}` }) },
  'GET /api/v1/sessions/:id/logs': {
    who: 'member',
    ok: 200,
    prepare: async (w, s) => ({ path: `/sessions/${await memberSession(w, s)}/logs` }),
  },
  'POST /api/v1/sessions/:id/relay-tickets': {
    who: 'owner',
    ok: 201,
    prepare: async (w, s) => ({ path: `/sessions/${await memberSession(w, s)}/relay-tickets` }),
  },
  'POST /api/v1/sessions/:id/stop': {
    who: 'owner',
    ok: 200,
    prepare: async (w, s) => ({ path: `/sessions/${await memberSession(w, s)}/stop` }),
  },
  // MFA routes (server/mfa): the caller's own authenticator, and a project's policy.
  'GET /api/v1/me/mfa': { who: 'signedIn', ok: 200, prepare: async () => ({ path: '/me/mfa' }) },
  'POST /api/v1/me/mfa/totp': { who: 'signedIn', ok: 200, prepare: async () => ({ path: '/me/mfa/totp', body: {} }) },
  'POST /api/v1/me/mfa/totp/confirm': {
    who: 'signedIn',
    ok: 200,
    prepare: async (w, s, caller) => {
      if (caller === 'anonymous') return { path: '/me/mfa/totp/confirm', body: { code: '000000' } };
      const secret = await startTotp(w, s, caller);
      totpSecrets.set(caller, secret);
      // The previous step's code (accepted within the window), so a later test can use the current one.
      return { path: '/me/mfa/totp/confirm', body: { code: totpCode(secret, new Date(serverNow(s) - TOTP_PERIOD_SECONDS * 1000)) } };
    },
  },
  'DELETE /api/v1/me/mfa/totp': {
    who: 'signedIn',
    ok: 200,
    prepare: async (w, s, caller) => {
      if (caller === 'anonymous') return { path: '/me/mfa/totp', body: { code: '000000' } };
      let secret = totpSecrets.get(caller);
      if (!secret) {
        secret = await startTotp(w, s, caller);
        const code = totpCode(secret, new Date(serverNow(s) - TOTP_PERIOD_SECONDS * 1000));
        await ok(s.call('POST', '/me/mfa/totp/confirm', { token: tokenOf(w, caller), body: { code } }), 200);
      }
      return { path: '/me/mfa/totp', body: { code: totpCode(secret, new Date(serverNow(s))) } };
    },
  },
  'PUT /api/v1/projects/:projectId/mfa-policy': {
    who: 'admin',
    ok: 200,
    prepare: async (w) => ({ path: `/projects/${w.projectId}/mfa-policy`, body: { enforcedMethod: null } }),
  },
  // No gateway is connected in this world: the test is refused with gateway_offline, after the role checks.
  'POST /api/v1/resources/test-connection': {
    who: 'admin',
    ok: 503,
    prepare: async (w) => ({
      path: '/resources/test-connection',
      body: { projectId: w.projectId, gatewayId: w.gateway.gatewayId, connectionString: 'mongodb://db.internal:27017' },
    }),
  },
  'POST /api/v1/resources/:id/test-connection': {
    who: 'admin',
    ok: 503,
    prepare: async (w) => ({ path: `/resources/${w.resource.id}/test-connection`, body: {} }),
  },
  'POST /api/v1/accounts/:id/test-connection': {
    who: 'admin',
    ok: 503,
    prepare: async (w) => ({ path: `/accounts/${w.account.id}/test-connection`, body: {} }),
  },
  'GET /api/v1/access-requests': { who: 'signedIn', ok: 200, prepare: async () => ({ path: '/access-requests' }) },
  // The requester (the member) and the project's admins.
  'GET /api/v1/access-requests/:id': {
    who: 'member',
    ok: 200,
    prepare: async (w, s) => ({ path: `/access-requests/${await memberRequest(w, s)}` }),
  },
  'POST /api/v1/access-requests/:id/approve': {
    who: 'admin',
    ok: 200,
    prepare: async (w, s) => ({ path: `/access-requests/${await memberRequest(w, s)}/approve`, body: {} }),
  },
  'POST /api/v1/access-requests/:id/deny': {
    who: 'admin',
    ok: 200,
    prepare: async (w, s) => ({ path: `/access-requests/${await memberRequest(w, s)}/deny`, body: {} }),
  },
  'POST /api/v1/access-requests/:id/cancel': {
    who: 'owner',
    ok: 200,
    prepare: async (w, s) => ({ path: `/access-requests/${await memberRequest(w, s)}/cancel` }),
  },
  'POST /api/v1/sessions/:id/terminate': {
    who: 'admin',
    ok: 200,
    prepare: async (w, s) => ({ path: `/sessions/${await memberSession(w, s)}/terminate` }),
  },
};

function expected(who: Who, caller: Caller, okStatus: number): number {
  if (who === 'anyone') return okStatus;
  if (caller === 'anonymous') return 401;
  if (who === 'signedIn') return okStatus;
  if (caller === 'outsider') return 404;
  if (who === 'member') return okStatus;
  if (who === 'admin') return caller === 'admin' ? okStatus : 403;
  return caller === 'member' ? okStatus : 403; // owner
}

const CALLERS: Caller[] = ['anonymous', 'outsider', 'member', 'admin'];

describeApi('authorization matrix over every route', ['sqlite', 'postgres'], (server) => {
  let world: World;
  before(async () => {
    totpSecrets.clear();
    world = await seedWorld(server());
  });

  it('has an entry for every registered route, and no entry for a route that does not exist', () => {
    const registered = server()
      .cp.fastify.registeredRoutes.map((r) => `${r.method} ${r.url}`)
      .filter((r) => !r.startsWith('OPTIONS '));
    const missing = registered.filter((r) => !(r in MATRIX));
    assert.deepEqual(missing, [], `routes without an authorization entry: ${missing.join(', ')}`);
    const stale = Object.keys(MATRIX).filter((r) => !registered.includes(r));
    assert.deepEqual(stale, [], `entries for routes that are not registered: ${stale.join(', ')}`);
  });

  for (const [route, entry] of Object.entries(MATRIX)) {
    it(`${route}: ${entry.who}`, async () => {
      const s = server();
      const method = route.split(' ')[0];
      for (const caller of CALLERS) {
        const prepared = await entry.prepare(world, s, caller);
        const token = prepared.token ?? tokenOf(world, caller);
        const result = await s.call(method, prepared.path, { token, body: prepared.body });
        const want = expected(entry.who, caller, entry.ok);
        assert.equal(result.status, want, `${caller}: ${method} ${prepared.path} -> ${result.status} ${JSON.stringify(result.body)}`);
        // Refusals carry their code; an admin's expected failure (a test with no gateway here: 503) is its own.
        if (result.status >= 400 && !(caller === 'admin' && result.status === entry.ok)) {
          assert.equal(typeof result.body?.error?.code, 'string', `${caller}: error body ${JSON.stringify(result.body)}`);
          assert.equal(typeof result.body?.error?.message, 'string');
          const code = { 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found' }[result.status];
          assert.equal(result.body.error.code, code);
        }
      }
    });
  }

  it('refuses a forged, an unknown and a malformed bearer token with 401', async () => {
    const s = server();
    for (const token of ['pcu_' + 'A'.repeat(43), 'not-a-token', `${world.adminToken}x`]) {
      const result = await s.call('GET', '/me', { token });
      assert.equal(result.status, 401);
      assert.equal(result.body.error.code, 'unauthenticated');
    }
  });
});
