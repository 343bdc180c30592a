/**
 * Issue 12: creating a resource with a CA certificate on a fresh project hung the whole control plane on SQLite
 * (the data key was read through the outer database handle inside the store transaction, and SQLite's one
 * connection was held by that transaction). Here every mutating route of the API runs against a real control
 * plane, on both dialects, with every optional field set (the encrypted ones included), each route that encrypts
 * doing so as the first use of a fresh project's data key, and every call has a deadline: a hang fails the test
 * with the route's name instead of stalling it. Afterwards the control plane must still answer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { makeTestCerts } from '../bed/certs';
import { accessBody } from '../bed/tunnel-key';
import { type ApiServer, type CallOptions, type CallResult, describeApi, presentTunnelCertificate } from '../e2e/api-harness';

/** Generous for a loaded 2-core machine (sign-ins hash with argon2); a hang is forever. */
const DEADLINE_MS = 15_000;
const PASSWORD = 'No-hang-Pa55word-for-tests';

describeApi('every mutating route answers in time, on fresh projects (issue 12)', ['sqlite', 'postgres'], (server, dialect) => {
  let certDir: string;
  let caCertificate: string;

  before(() => {
    certDir = mkdtempSync(join(tmpdir(), 'portcullis-no-hang-'));
    caCertificate = makeTestCerts(certDir).ca.certPem;
  });
  after(() => rmSync(certDir, { recursive: true, force: true }));

  /** One call with the deadline; fails naming the route unless the status is the expected one. */
  const expect = async (status: number, method: string, path: string, options: CallOptions = {}): Promise<CallResult> => {
    const result = await server().call(method, path, { ...options, deadlineMs: DEADLINE_MS });
    if (result.status !== status) {
      // The server logs the cause of an internal error (e.g. the store's connection deadline); show it.
      const logged = server()
        .logs.filter((line) => line.includes('"level":"error"'))
        .slice(-2);
      assert.fail(`${method} ${path}: expected ${status}, got ${result.status} ${JSON.stringify(result.body)}\n${logged.join('\n')}`);
    }
    return result;
  };
  /** The server's clock, which the test moves forward so that each TOTP code is a fresh one. */
  const serverNow = (s: ApiServer) => new Date(Date.now() + s.clock.offsetMs);
  const totpCode = (secret: string, s: ApiServer) =>
    new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({
      timestamp: serverNow(s).getTime(),
    });
  const nextTotpStep = (s: ApiServer) => {
    s.clock.offsetMs += 60_000;
  };

  it('runs every mutating route with every optional field set; the control plane keeps answering', async () => {
    const s = server();
    const login = await expect(200, 'POST', '/auth/login', { body: { email: s.bootstrap.email, password: s.bootstrap.password } });
    const admin = login.body.token as string;

    /** A project nobody has encrypted anything in yet, with an enrolled gateway marked online as the relay does. */
    const freshProject = async (name: string) => {
      const project = await expect(201, 'POST', '/projects', { token: admin, body: { name } });
      const enrollment = await expect(201, 'POST', '/gateways/enrollment-tokens', {
        token: admin,
        body: { projectId: project.body.id, name: `${name}-gw` },
      });
      const gateway = await expect(201, 'POST', '/gateway/enroll', { body: { token: enrollment.body.token, name: `${name}-gw` } });
      await presentTunnelCertificate(s, gateway.body.gatewayId);
      await s.cp.services.setGatewayConnected(gateway.body.gatewayId, true, serverNow(s));
      return { projectId: project.body.id as string, gatewayId: gateway.body.gatewayId as string };
    };
    const resourceBody = (p: { projectId: string; gatewayId: string }, name: string) => ({
      projectId: p.projectId,
      gatewayId: p.gatewayId,
      name,
      connectionString: 'mongodb://db.internal:27017/?replicaSet=rs0',
    });
    const accountBody = (name: string, mfaRequired: boolean) => ({
      name,
      description: `the ${name} account`,
      username: `${name}_user`,
      password: `${name}-Acc0unt-pa55`,
      mfaRequired,
      maxSessionDurationSeconds: 7200,
    });

    // 1. The reported hang: a resource with a CA certificate is the first encryption in its project.
    const first = await freshProject('first');
    const withCa = await expect(201, 'POST', '/resources', {
      token: admin,
      body: { ...resourceBody(first, 'with-ca'), authDatabase: 'users', tlsEnabled: true, tlsRejectUnauthorized: true, caCertificate },
    });
    assert.equal(withCa.body.hasCaCertificate, true);
    const mfaAccount = await expect(201, 'POST', `/resources/${withCa.body.id}/accounts`, {
      token: admin,
      body: accountBody('guarded', true),
    });

    // 2. A CA certificate added by an update is the first encryption in its project.
    const second = await freshProject('second');
    const plain = await expect(201, 'POST', '/resources', { token: admin, body: resourceBody(second, 'plain') });
    const updated = await expect(200, 'PATCH', `/resources/${plain.body.id}`, {
      token: admin,
      body: {
        name: 'plain-renamed',
        gatewayId: second.gatewayId,
        connectionString: 'mongodb://db2.internal:27017',
        authDatabase: 'other',
        tlsEnabled: true,
        tlsRejectUnauthorized: false,
        caCertificate,
      },
    });
    assert.equal(updated.body.hasCaCertificate, true);

    // 3. An account password is the first encryption in its project; then an update changes every field.
    const third = await freshProject('third');
    const bare = await expect(201, 'POST', '/resources', { token: admin, body: resourceBody(third, 'bare') });
    const account = await expect(201, 'POST', `/resources/${bare.body.id}/accounts`, { token: admin, body: accountBody('plain', false) });
    await expect(200, 'PATCH', `/accounts/${account.body.id}`, {
      token: admin,
      body: { ...accountBody('plain-renamed', false), password: 'Changed-Acc0unt-pa55' },
    });

    // Members: a new user (with a name and password), a role change; a member of the first project for MFA.
    const memberEmail = `member-${dialect}@example.com`;
    const member = await expect(201, 'POST', `/projects/${first.projectId}/members`, {
      token: admin,
      body: { email: memberEmail, role: 'member', name: 'Member', password: PASSWORD },
    });
    await expect(201, 'POST', `/projects/${third.projectId}/members`, { token: admin, body: { email: memberEmail, role: 'member' } });
    await expect(200, 'PATCH', `/projects/${third.projectId}/members/${member.body.userId}`, { token: admin, body: { role: 'admin' } });
    await expect(204, 'DELETE', `/projects/${third.projectId}/members/${member.body.userId}`, { token: admin });
    const memberToken = (await expect(200, 'POST', '/auth/login', { body: { email: memberEmail, password: PASSWORD } })).body
      .token as string;

    // MFA: an authenticator app, the project's policy, an access that passes a TOTP challenge.
    const enrollment = await expect(200, 'POST', '/me/mfa/totp', { token: memberToken, body: {} });
    const secret = enrollment.body.secret as string;
    await expect(200, 'POST', '/me/mfa/totp/confirm', { token: memberToken, body: { code: totpCode(secret, s) } });
    await expect(200, 'PUT', `/projects/${first.projectId}/mfa-policy`, { token: admin, body: { enforcedMethod: 'totp' } });
    const challenge = await expect(200, 'POST', `/accounts/${mfaAccount.body.id}/access`, {
      token: memberToken,
      body: accessBody({ durationSeconds: 600, clientAgent: 'no-hang-test/1' }),
    });
    assert.equal(challenge.body.kind, 'mfa');
    nextTotpStep(s);
    const granted = await expect(201, 'POST', `/accounts/${mfaAccount.body.id}/access`, {
      token: memberToken,
      body: accessBody({
        durationSeconds: 600,
        clientAgent: 'no-hang-test/1',
        mfa: { challengeId: challenge.body.challengeId, code: totpCode(secret, s) },
      }),
    });
    const sessionId = granted.body.session.id as string;
    await expect(201, 'POST', `/sessions/${sessionId}/relay-tickets`, { token: memberToken });
    await expect(200, 'POST', `/sessions/${sessionId}/stop`, { token: memberToken });
    nextTotpStep(s);
    await expect(200, 'DELETE', '/me/mfa/totp', { token: memberToken, body: { code: totpCode(secret, s) } });
    await expect(200, 'PUT', `/projects/${first.projectId}/mfa-policy`, { token: admin, body: { enforcedMethod: null } });

    // A session an admin terminates.
    const other = await expect(201, 'POST', `/accounts/${account.body.id}/access`, { token: admin, body: accessBody() });
    await expect(200, 'POST', `/sessions/${other.body.session.id}/terminate`, { token: admin });

    // Deletions, down to the gateway.
    await expect(204, 'DELETE', `/accounts/${mfaAccount.body.id}`, { token: admin });
    await expect(204, 'DELETE', `/resources/${withCa.body.id}`, { token: admin });
    await expect(204, 'DELETE', `/gateways/${first.gatewayId}`, { token: admin });
    await expect(204, 'POST', '/auth/logout', { token: memberToken });

    // The symptom was that everything else waited too: a listing and a sign-in still answer.
    const list = await expect(200, 'GET', `/resources?projectId=${second.projectId}`, { token: admin });
    assert.deepEqual(
      list.body.items.map((r: { name: string }) => r.name),
      ['plain-renamed'],
    );
    await expect(200, 'POST', '/auth/login', { body: { email: s.bootstrap.email, password: s.bootstrap.password } });
  });
});
