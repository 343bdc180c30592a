/**
 * Signing in: bearer tokens expire and can be revoked, the first start bootstraps an admin once, the admin
 * password can be reset, and admin actions land in the audit trail. The sign-in limits are in
 * api-sign-in-limits.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { AuditEventDto, LoginResponse, MeDto, Page } from '../../protocol/api';
import { resetAdminPassword } from '../../server/auth/bootstrap';
import { resolveConfig } from '../../server/config';
import { startControlPlane } from '../../server/control-plane';
import { newWrappedDataKey } from '../../server/secrets/envelope';
import { loadRootKey } from '../../server/secrets/root-key';
import { openStore } from '../../server/store/open-store';
import { startPostgres } from '../bed/postgres';
import { trackTempDir } from '../bed/processes';
import { accessBody } from '../bed/tunnel-key';
import {
  type ApiServer,
  type ControlPlaneProcess,
  describeApi,
  MEMBER_PASSWORD,
  seedWorld,
  startApiServer,
  startControlPlaneProcess,
  type World,
} from './api-harness';

describeApi('sign-in tokens and audit', ['sqlite'], (server) => {
  let w: World;
  before(async () => {
    w = await seedWorld(server());
  });

  it('a token stops working once revoked by sign-out; other tokens of the user keep working', async () => {
    const s = server();
    const a = await s.login(w.memberEmail, MEMBER_PASSWORD);
    const b = await s.login(w.memberEmail, MEMBER_PASSWORD);
    assert.equal((await s.call('GET', '/me', { token: a })).status, 200);
    assert.equal((await s.call('POST', '/auth/logout', { token: a })).status, 204);
    const revoked = await s.call('GET', '/me', { token: a });
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.error.code, 'unauthenticated');
    assert.equal((await s.call('GET', '/me', { token: b })).status, 200);
  });

  it('a token expires after the configured lifetime (12 hours by default)', async () => {
    const s = server();
    const login = await s.call('POST', '/auth/login', { body: { email: w.memberEmail, password: MEMBER_PASSWORD } });
    assert.equal(login.status, 200);
    assert.match(login.body.token, /^pcu_[A-Za-z0-9_-]{43}$/);
    const lifetime = Date.parse(login.body.expiresAt) - (Date.now() + s.clock.offsetMs);
    assert.ok(lifetime > 12 * 3600_000 - 60_000 && lifetime <= 12 * 3600_000);
    s.clock.offsetMs += 12 * 3600_000 + 1000;
    try {
      const expired = await s.call('GET', '/me', { token: login.body.token });
      assert.equal(expired.status, 401);
      assert.match(expired.body.error.message, /expired, revoked or unknown/);
    } finally {
      s.clock.offsetMs -= 12 * 3600_000 + 1000;
    }
    assert.equal((await s.call('GET', '/me', { token: login.body.token })).status, 200);
  });

  it('records admin actions and sign-ins in the audit trail, without secrets', async () => {
    const s = server();
    const t = w.adminToken;
    const failed = await s.call('POST', '/auth/login', { body: { email: w.memberEmail, password: 'wrong-password-in-audit' } });
    assert.equal(failed.status, 401);
    assert.equal(failed.body.error.message, 'wrong email or password');
    const resource = await s.call('POST', '/resources', {
      token: t,
      body: { projectId: w.projectId, name: 'audited', gatewayId: w.gateway.gatewayId, connectionString: 'mongodb://a' },
    });
    await s.call('PATCH', `/resources/${resource.body.id}`, { token: t, body: { authDatabase: 'users' } });
    const account = await s.call('POST', `/resources/${resource.body.id}/accounts`, {
      token: t,
      body: { name: 'audited', username: 'u', password: 'audit-secret-pw-123' },
    });
    await s.call('PATCH', `/accounts/${account.body.id}`, { token: t, body: { password: 'audit-secret-pw-456' } });
    await s.call('DELETE', `/accounts/${account.body.id}`, { token: t });
    await s.call('DELETE', `/resources/${resource.body.id}`, { token: t });
    await s.call('PATCH', `/projects/${w.projectId}/members/${w.member.userId}`, { token: t, body: { role: 'member' } });
    assert.equal(
      (await s.call('POST', `/projects/${w.projectId}/members`, { token: t, body: { email: w.spareEmail, role: 'member' } })).status,
      201,
    );
    assert.equal((await s.call('DELETE', `/projects/${w.projectId}/members/${w.spareUserId}`, { token: t })).status, 204);
    assert.equal((await s.call('POST', `/accounts/${w.account.id}/access`, { token: w.memberToken, body: accessBody() })).status, 201);

    const events: AuditEventDto[] = [];
    let cursor: string | undefined;
    do {
      const page = await s.call<Page<AuditEventDto>>('GET', `/projects/${w.projectId}/audit?limit=7${cursor ? `&cursor=${cursor}` : ''}`, {
        token: t,
      });
      assert.equal(page.status, 200);
      events.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    const actions = new Set(events.map((e) => e.action));
    for (const action of [
      'member.added',
      'member.removed',
      'member.updated',
      'gateway.enrollment_token.created',
      'gateway.enrolled',
      'resource.created',
      'resource.updated',
      'resource.deleted',
      'account.created',
      'account.updated',
      'account.deleted',
      'session.started',
    ]) {
      assert.ok(actions.has(action), `no ${action} in the audit trail`);
    }
    const updated = events.find((e) => e.action === 'account.updated' && e.targetId === account.body.id)!;
    assert.equal(updated.actorEmail, s.bootstrap.email);
    assert.deepEqual(updated.details, { name: 'audited', changed: ['password'] });
    assert.ok(!JSON.stringify(events).includes('audit-secret-pw'));
    const times = events.map((e) => e.time);
    assert.deepEqual(times, [...times].sort().reverse());

    // Sign-ins belong to no project: they are in the store.
    const signIns = await s.cp.store.db
      .selectFrom('audit_events')
      .select(['action', 'details'])
      .where('action', 'like', 'auth.sign_in.%')
      .execute();
    assert.ok(signIns.some((e) => e.action === 'auth.sign_in.succeeded'));
    assert.ok(signIns.some((e) => e.action === 'auth.sign_in.failed'));
    assert.ok(!signIns.some((e) => e.details.includes('wrong-')));
  });
});

describeApi('bootstrap', ['sqlite'], (server) => {
  it('creates the first admin and the default project once, with a one-time password that signs in', async () => {
    const s: ApiServer = server();
    assert.equal(s.bootstrap.email, 'admin@localhost');
    assert.ok(s.bootstrap.password.length >= 20);
    const token = await s.login(s.bootstrap.email, s.bootstrap.password);
    const me = await s.call('GET', '/me', { token });
    assert.deepEqual(
      me.body.projects.map((p: { name: string; role: string }) => [p.name, p.role]),
      [['default', 'admin']],
    );
  });

  it('a second start on the same data does not bootstrap again; a reset gives a new password and revokes old tokens', async () => {
    const s: ApiServer = server();
    const oldToken = await s.login(s.bootstrap.email, s.bootstrap.password);
    const again = await startControlPlane(resolveConfig({ dataDir: s.dataDir, listenPort: 0, logger: false }));
    try {
      assert.equal(again.bootstrapResult, null);
    } finally {
      await again.close();
    }
    const store = await openStore({ dataDir: s.dataDir });
    let reset: { email: string; password: string };
    try {
      const rootKey = loadRootKey({ keyFile: `${s.dataDir}/root.key` });
      reset = await resetAdminPassword(store, { newWrappedKey: () => newWrappedDataKey(rootKey) });
    } finally {
      await store.close();
    }
    assert.equal(reset.email, s.bootstrap.email);
    assert.notEqual(reset.password, s.bootstrap.password);
    assert.equal((await s.call('GET', '/me', { token: oldToken })).status, 401);
    assert.equal((await s.call('POST', '/auth/login', { body: { email: reset.email, password: s.bootstrap.password } })).status, 401);
    await s.login(reset.email, reset.password);
  });

  it('answers an unexpected failure with internal_error and keeps the details in the log', async () => {
    const broken = await startApiServer('sqlite');
    try {
      await broken.cp.store.close();
      const result = await broken.call('POST', '/auth/login', { body: { email: 'a@example.com', password: 'whatever-password' } });
      assert.equal(result.status, 500);
      assert.deepEqual(result.body, {
        error: { code: 'internal_error', message: 'something went wrong on the server; the details are in its log' },
      });
      assert.ok(broken.logs.some((line) => line.includes('"request failed"') && line.includes('"err"')));
    } finally {
      await broken.close();
    }
  });

  it('serves HTTPS when given a certificate and key', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { makeTestCerts } = await import('../bed/certs');
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
    try {
      const certs = makeTestCerts(dir);
      const tls = await startApiServer('sqlite', {
        tls: { certFile: certs.verified.certFile, keyFile: certs.verified.keyFile },
        listenHost: '127.0.0.1',
      });
      try {
        assert.match(tls.cp.url, /^https:\/\//);
        const https = await import('node:https');
        const body = await new Promise<string>((resolve, reject) => {
          https
            .get(`${tls.base}/health`, { ca: certs.ca.certPem }, (res) => {
              let text = '';
              res.on('data', (c) => (text += c));
              res.on('end', () => resolve(text));
            })
            .on('error', reject);
        });
        assert.equal(JSON.parse(body).ok, true);
      } finally {
        await tls.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`first start of several control planes at once [${dialect}]`, () => {
    it('one of them creates the first admin, the others find it; none fails, and the password works on each', async () => {
      const dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-replicas-')));
      const database = dialect === 'postgres' ? await startPostgres() : undefined;
      const started: ControlPlaneProcess[] = [];
      try {
        const results = await Promise.allSettled(
          Array.from({ length: 4 }, () => startControlPlaneProcess({ dataDir, databaseUrl: database?.url })),
        );
        for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
        for (const r of results) assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '');
        const firsts = started.filter((p) => p.bootstrap !== null);
        assert.equal(firsts.length, 1, 'exactly one first start');
        const sign = firsts[0].bootstrap!;
        for (const p of started) {
          const login = await fetch(`${p.base}/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(sign),
          });
          const text = await login.text();
          assert.equal(login.status, 200, text);
          const me = await fetch(`${p.base}/me`, { headers: { authorization: `Bearer ${(JSON.parse(text) as LoginResponse).token}` } });
          const projects = ((await me.json()) as MeDto).projects.map((x) => x.name);
          assert.deepEqual(projects, ['default'], 'one default project');
        }
      } finally {
        await Promise.all(started.map((p) => p.stop()));
        await database?.stop();
      }
    });
  });
}
