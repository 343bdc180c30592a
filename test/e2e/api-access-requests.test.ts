/**
 * Access requests and grants through the API, on both stores, with a real SMTP server: a member's access to an
 * account that requires approval waits on a request; another admin approves it (the waiting long poll answers at
 * once), and the grant lets several sessions start until its end; deny, cancel, self-approval, expiry of requests and
 * of grants, visibility, and the audit trail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AccessRequestDto, AccessResponse, AuditEventDto } from '../../protocol/api';
import { type SmtpTestServer, startSmtpServer } from '../bed/smtp';
import { accessBody } from '../bed/tunnel-key';
import { type ApiDialect, type ApiServer, MEMBER_PASSWORD, seedWorld, startApiServer, type World } from './api-harness';

const TTL_SECONDS = 600;

for (const dialect of ['sqlite', 'postgres'] as ApiDialect[]) {
  describe(`access requests [${dialect}]`, () => {
    let s: ApiServer;
    let smtp: SmtpTestServer;
    let w: World;
    let secondAdminToken: string;
    let accountId: string;
    const secondAdminEmail = `approver-${dialect}@example.com`;

    before(async () => {
      smtp = await startSmtpServer();
      s = await startApiServer(
        dialect,
        { gatewayHeartbeatSeconds: 3600, accessRequestTtlSeconds: TTL_SECONDS },
        { smtp: { host: smtp.host, port: smtp.port, secure: false, from: 'portcullis@example.com' } },
      );
      w = await seedWorld(s);
      const added = await s.call('POST', `/projects/${w.projectId}/members`, {
        token: w.adminToken,
        body: { email: secondAdminEmail, role: 'admin', password: MEMBER_PASSWORD },
      });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      secondAdminToken = await s.login(secondAdminEmail, MEMBER_PASSWORD);
      const updated = await s.call('PATCH', `/accounts/${w.account.id}`, {
        token: w.adminToken,
        body: { policy: { approvalRequired: true } },
      });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.equal(updated.body.policy.approvalRequired, true);
      accountId = w.account.id;
    });
    after(async () => {
      await s?.close();
      await smtp?.stop();
    });

    const access = (token: string, body: Record<string, unknown> = {}) =>
      s.call<AccessResponse>('POST', `/accounts/${accountId}/access`, { token, body: accessBody(body) });
    const requestOf = (answer: { status: number; body: AccessResponse }): AccessRequestDto => {
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      assert.equal(answer.body.kind, 'approval');
      return (answer.body as { request: AccessRequestDto }).request;
    };
    const audit = async (targetId: string) =>
      (
        await s.call<{ items: AuditEventDto[] }>('GET', `/projects/${w.projectId}/audit?limit=200`, { token: w.adminToken })
      ).body.items.filter((e) => e.targetId === targetId || e.details.accessRequestId === targetId);

    it('asks for a reason, opens one request per user and account, and emails the admins', async () => {
      const noReason = await access(w.memberToken);
      assert.equal(noReason.status, 400);
      assert.equal((noReason.body as unknown as { error: { code: string } }).error.code, 'reason_required');

      const request = requestOf(await access(w.memberToken, { reason: 'INC-42: stuck orders', durationSeconds: 1800 }));
      assert.equal(request.state, 'pending');
      assert.equal(request.reason, 'INC-42: stuck orders');
      assert.equal(request.durationSeconds, 1800);
      assert.equal(request.requesterEmail, w.memberEmail);
      // A second access while it waits joins the same request.
      assert.equal(requestOf(await access(w.memberToken, { reason: 'again' })).id, request.id);

      const mail = await smtp.waitForMessage((m) => m.subject.includes(w.memberEmail) && m.text.includes(request.id));
      assert.deepEqual(mail.to.sort(), [s.bootstrap.email, secondAdminEmail].map((e) => e.toLowerCase()).sort());
      assert.match(mail.text, /INC-42: stuck orders/);
      assert.match(mail.text, new RegExp(`portcullis request approve ${request.id}`));

      // Admins see it in the inbox; the member sees their own; an outsider sees nothing and cannot read it.
      const inbox = await s.call('GET', `/access-requests?projectId=${w.projectId}&state=pending`, { token: secondAdminToken });
      assert.deepEqual(
        inbox.body.items.map((r: AccessRequestDto) => r.id),
        [request.id],
      );
      const own = await s.call('GET', '/access-requests?mine=true', { token: w.memberToken });
      assert.deepEqual(
        own.body.items.map((r: AccessRequestDto) => r.id),
        [request.id],
      );
      assert.deepEqual((await s.call('GET', '/access-requests', { token: w.outsiderToken })).body.items, []);
      assert.equal((await s.call('GET', `/access-requests/${request.id}`, { token: w.outsiderToken })).status, 404);
      // A member cannot decide, and nobody can approve through the requester's own token.
      const byMember = await s.call('POST', `/access-requests/${request.id}/approve`, { token: w.memberToken, body: {} });
      assert.equal(byMember.status, 403);
    });

    it('an approval answers the waiting long poll at once and becomes a grant for several sessions', async () => {
      const request = requestOf(await access(w.memberToken, { reason: 'INC-42: stuck orders' }));
      const started = Date.now();
      const waiting = s.call<AccessRequestDto>('GET', `/access-requests/${request.id}?wait=20`, { token: w.memberToken });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const approved = await s.call<AccessRequestDto>('POST', `/access-requests/${request.id}/approve`, {
        token: secondAdminToken,
        body: { note: 'ok for INC-42', durationSeconds: 900 },
      });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.equal(approved.body.state, 'approved');
      assert.equal(approved.body.durationSeconds, 900, 'the admin may shorten the grant');
      const answered = await waiting;
      assert.equal(answered.body.state, 'approved');
      assert.ok(Date.now() - started < 5000, `the long poll answered after ${Date.now() - started} ms`);
      assert.equal(answered.body.decidedByEmail, secondAdminEmail);
      assert.equal(answered.body.note, 'ok for INC-42');
      const grantEnd = Date.parse(answered.body.grantExpiresAt!);

      // Two sessions under the one grant, each ending by the grant's end; no reason needed again.
      const ids: string[] = [];
      for (const body of [{ durationSeconds: 3600 }, {}]) {
        const granted = await access(w.memberToken, body);
        assert.equal(granted.status, 201, JSON.stringify(granted.body));
        assert.equal(granted.body.kind, 'session');
        const session = (granted.body as { session: { id: string; expiresAt: string; accessRequestId: string; reason: string } }).session;
        assert.equal(session.accessRequestId, request.id);
        assert.equal(session.reason, 'INC-42: stuck orders');
        assert.ok(Date.parse(session.expiresAt) <= grantEnd, `${session.expiresAt} is after the grant's end`);
        ids.push(session.id);
      }
      assert.equal((await s.call('GET', `/access-requests/${request.id}`, { token: w.memberToken })).body.sessions, 2);
      // Decided once: a second decision is refused.
      const again = await s.call('POST', `/access-requests/${request.id}/deny`, { token: w.adminToken, body: {} });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'request_not_pending');

      const mail = await smtp.waitForMessage((m) => m.to.includes(w.memberEmail.toLowerCase()) && /approved/.test(m.subject));
      assert.match(mail.text, /ok for INC-42/);
      const actions = (await audit(request.id)).map((e) => e.action);
      assert.ok(actions.includes('access_request.created'), actions.join());
      assert.ok(actions.includes('access_request.approved'), actions.join());
      assert.equal(actions.filter((a) => a === 'session.started').length, 2, actions.join());
      for (const id of ids) await s.call('POST', `/sessions/${id}/stop`, { token: w.memberToken });

      // The grant ends: its time box is over, the next access waits on a new request; the sweep audits the end.
      s.clock.offsetMs += 901_000;
      const next = requestOf(await access(w.memberToken, { reason: 'INC-43' }));
      assert.notEqual(next.id, request.id);
      assert.equal((await s.call('GET', `/access-requests/${request.id}`, { token: w.memberToken })).body.state, 'expired');
      await s.cp.services.sessions.sweep();
      assert.ok((await audit(request.id)).some((e) => e.action === 'access_grant.expired'));
      await s.call('POST', `/access-requests/${next.id}/cancel`, { token: w.memberToken });
    });

    it('refuses self-approval, and a denial is final and says why', async () => {
      const mine = requestOf(await access(w.adminToken, { reason: 'admin needs it too' }));
      const self = await s.call('POST', `/access-requests/${mine.id}/approve`, { token: w.adminToken, body: {} });
      assert.equal(self.status, 403);
      assert.equal(self.body.error.code, 'self_approval');
      assert.match(self.body.error.message, /another admin/);
      assert.equal((await s.call('GET', `/access-requests/${mine.id}`, { token: w.adminToken })).body.state, 'pending');

      const denied = await s.call('POST', `/access-requests/${mine.id}/deny`, { token: secondAdminToken, body: { note: 'use staging' } });
      assert.equal(denied.status, 200);
      assert.equal(denied.body.state, 'denied');
      assert.equal(denied.body.note, 'use staging');
      // No grant: access opens a new request rather than a session.
      const fresh = requestOf(await access(w.adminToken, { reason: 'please' }));
      assert.notEqual(fresh.id, mine.id);
      // Only the requester cancels; an admin denies.
      const byOther = await s.call('POST', `/access-requests/${fresh.id}/cancel`, { token: secondAdminToken });
      assert.equal(byOther.status, 403);
      const cancelled = await s.call('POST', `/access-requests/${fresh.id}/cancel`, { token: w.adminToken });
      assert.equal(cancelled.body.state, 'cancelled');
      assert.ok((await audit(mine.id)).some((e) => e.action === 'access_request.denied' && e.details.note === 'use staging'));
      assert.ok((await audit(fresh.id)).some((e) => e.action === 'access_request.cancelled'));
    });

    it('an unanswered request expires: it cannot be approved, and the expiry is audited once', async () => {
      const request = requestOf(await access(w.memberToken, { reason: 'late night' }));
      s.clock.offsetMs += (TTL_SECONDS + 1) * 1000;
      assert.equal((await s.call('GET', `/access-requests/${request.id}`, { token: w.memberToken })).body.state, 'expired');
      const late = await s.call('POST', `/access-requests/${request.id}/approve`, { token: secondAdminToken, body: {} });
      assert.equal(late.status, 409);
      assert.match(late.body.error.message, /expired/);
      await Promise.all([s.cp.services.sessions.sweep(), s.call('GET', '/access-requests', { token: w.adminToken })]);
      await s.cp.services.sessions.sweep();
      assert.equal((await audit(request.id)).filter((e) => e.action === 'access_request.expired').length, 1);
    });
  });
}
