/**
 * Sessions through the real API and the services the relay calls: access and its duration cap, visibility,
 * filters and pagination, stop and terminate (with the `ended` event), the expiry and idle sweeps, the gateway
 * going offline, relay tickets, credentials for the gateway, and idempotent log uploads.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { AccessGranted, AccountDto, Page, SessionDto, SessionEndReason } from '../../protocol/api';
import type { LogBatch } from '../../protocol/gateway-channel';
import { accessBody } from '../bed/tunnel-key';
import { ACCOUNT_PASSWORD, type ApiServer, describeApi, enrollGateway, MEMBER_PASSWORD, seedWorld, type World } from './api-harness';

async function access(s: ApiServer, token: string, accountId: string, body: object = {}): Promise<AccessGranted> {
  const result = await s.call<AccessGranted>('POST', `/accounts/${accountId}/access`, { token, body: accessBody(body) });
  assert.equal(result.status, 201, JSON.stringify(result.body));
  return result.body;
}

async function listAll(s: ApiServer, token: string, query: string, limit: number): Promise<SessionDto[]> {
  const items: SessionDto[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const q = `${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const result = await s.call<Page<SessionDto>>('GET', `/sessions?${q}`, { token });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.ok(result.body.items.length <= limit);
    items.push(...result.body.items);
    cursor = result.body.nextCursor;
    if (!cursor) return items;
  }
  throw new Error('pagination did not end');
}

/** Waits (bounded) until the condition holds; the sweeper runs once a second. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;

describeApi('sessions', ['sqlite', 'postgres'], (server) => {
  let w: World;
  let second: AccountDto;
  const ended: Array<[string, SessionEndReason, string]> = [];

  before(async () => {
    const s = server();
    w = await seedWorld(s);
    const created = await s.call<AccountDto>('POST', `/resources/${w.resource.id}/accounts`, {
      token: w.adminToken,
      body: { name: 'writer', username: 'app_writer', password: 'writer-password', maxSessionDurationSeconds: 86_400 },
    });
    assert.equal(created.status, 201);
    second = created.body;
    s.cp.services.sessions.on('ended', (id, reason, gatewayId) => ended.push([id, reason, gatewayId]));
  });

  it('caps the requested duration by the account maximum and the server cap, and defaults to one hour', async () => {
    const s = server();
    const capped = await access(s, w.memberToken, w.account.id, { durationSeconds: 3 * 86_400, clientAgent: 'test/1.0' });
    assert.equal(seconds(capped.session.startedAt!, capped.session.expiresAt), 7200);
    assert.equal(capped.session.state, 'active');
    assert.equal(capped.session.clientAgent, 'test/1.0');
    assert.match(capped.session.clientAddress ?? '', /127\.0\.0\.1/);
    assert.equal(capped.relay.url, `${s.cp.url.replace(/^http/, 'ws')}/api/v1/relay`);
    const byServer = await access(s, w.memberToken, second.id, { durationSeconds: 86_400 });
    assert.equal(seconds(byServer.session.startedAt!, byServer.session.expiresAt), 12 * 3600);
    const shorter = await access(s, w.memberToken, w.account.id, { durationSeconds: 120 });
    assert.equal(seconds(shorter.session.startedAt!, shorter.session.expiresAt), 120);
    const byDefault = await access(s, w.memberToken, w.account.id);
    assert.equal(seconds(byDefault.session.startedAt!, byDefault.session.expiresAt), 3600);
  });

  it('lists newest first with cursor pagination and filters; a member sees only their own sessions', async () => {
    const s = server();
    for (let i = 0; i < 3; i++) await access(s, w.adminToken, second.id);
    const adminAll = await listAll(s, w.adminToken, `projectId=${w.projectId}`, 500);
    const paged = await listAll(s, w.adminToken, `projectId=${w.projectId}`, 2);
    assert.deepEqual(
      paged.map((x) => x.id),
      adminAll.map((x) => x.id),
    );
    assert.equal(new Set(paged.map((x) => x.id)).size, paged.length);
    const times = adminAll.map((x) => x.createdAt);
    assert.deepEqual(times, [...times].sort().reverse());
    assert.ok(adminAll.some((x) => x.userId === w.member.userId) && adminAll.some((x) => x.userId !== w.member.userId));

    const mine = await listAll(s, w.memberToken, `projectId=${w.projectId}`, 2);
    assert.ok(mine.length > 0);
    assert.ok(mine.every((x) => x.userId === w.member.userId));
    const notMine = adminAll.find((x) => x.userId !== w.member.userId)!;
    assert.equal((await s.call('GET', `/sessions/${notMine.id}`, { token: w.memberToken })).status, 404);
    assert.equal((await s.call('GET', `/sessions/${notMine.id}/logs`, { token: w.memberToken })).status, 404);
    const outsider = await s.call<Page<SessionDto>>('GET', '/sessions', { token: w.outsiderToken });
    assert.deepEqual(outsider.body.items, []);

    const byAccount = await listAll(s, w.adminToken, `accountId=${second.id}`, 50);
    assert.ok(byAccount.length >= 4 && byAccount.every((x) => x.accountId === second.id));
    const byUser = await listAll(s, w.adminToken, `userId=${w.member.userId}`, 50);
    assert.deepEqual(
      byUser.map((x) => x.id),
      adminAll.filter((x) => x.userId === w.member.userId).map((x) => x.id),
    );
    const byResource = await listAll(s, w.adminToken, `resourceId=${w.resource.id}&state=active`, 50);
    assert.equal(byResource.length, adminAll.filter((x) => x.state === 'active').length);
    const middle = adminAll[Math.floor(adminAll.length / 2)].createdAt;
    const from = await listAll(s, w.adminToken, `from=${encodeURIComponent(middle)}`, 50);
    const to = await listAll(s, w.adminToken, `to=${encodeURIComponent(middle)}`, 50);
    assert.equal(from.length + to.length, adminAll.length);
    assert.ok(from.every((x) => x.createdAt >= middle) && to.every((x) => x.createdAt < middle));

    const bad = await s.call('GET', '/sessions?cursor=not-a-cursor', { token: w.adminToken });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'validation_failed');
    const badState = await s.call('GET', '/sessions?state=sleeping', { token: w.adminToken });
    assert.equal(badState.status, 400);
    assert.match(badState.body.error.message, /querystring\.state/);
  });

  it('lets the owner stop a session; a stopped session gets no relay ticket', async () => {
    const s = server();
    const granted = await access(s, w.memberToken, w.account.id);
    const ticket = await s.call('POST', `/sessions/${granted.session.id}/relay-tickets`, { token: w.memberToken });
    assert.equal(ticket.status, 201);
    const stopped = await s.call<SessionDto>('POST', `/sessions/${granted.session.id}/stop`, { token: w.memberToken });
    assert.equal(stopped.status, 200);
    assert.equal(stopped.body.state, 'ended');
    assert.equal(stopped.body.endReason, 'stopped');
    assert.ok(stopped.body.endedAt);
    assert.deepEqual(
      ended.find(([id]) => id === granted.session.id),
      [granted.session.id, 'stopped', w.gateway.gatewayId],
    );
    const after = await s.call('POST', `/sessions/${granted.session.id}/relay-tickets`, { token: w.memberToken });
    assert.equal(after.status, 409);
    assert.equal(after.body.error.code, 'session_not_active');
    assert.equal(await s.cp.services.verifyRelayTicket(granted.relay.ticket, granted.session.id), null);
  });

  it('lets an admin terminate a session: state, who, the ended event, and an audit entry', async () => {
    const s = server();
    const granted = await access(s, w.memberToken, w.account.id);
    const terminated = await s.call<SessionDto>('POST', `/sessions/${granted.session.id}/terminate`, { token: w.adminToken });
    assert.equal(terminated.status, 200, JSON.stringify(terminated.body));
    assert.equal(terminated.body.state, 'terminated');
    assert.equal(terminated.body.endReason, 'terminated');
    assert.equal(terminated.body.endedBy, s.bootstrap.email);
    assert.deepEqual(
      ended.filter(([id]) => id === granted.session.id),
      [[granted.session.id, 'terminated', w.gateway.gatewayId]],
    );
    const again = await s.call('POST', `/sessions/${granted.session.id}/terminate`, { token: w.adminToken });
    assert.equal(again.status, 409);
    const audit = await s.call('GET', `/projects/${w.projectId}/audit?action=session.terminated`, { token: w.adminToken });
    assert.ok(
      audit.body.items.some(
        (e: { targetId: string; actorEmail: string }) => e.targetId === granted.session.id && e.actorEmail === s.bootstrap.email,
      ),
    );
  });

  it('relay tickets: valid for their session only, refused when tampered with or older than 60 s', async () => {
    const s = server();
    const granted = await access(s, w.memberToken, w.account.id);
    const other = await access(s, w.memberToken, w.account.id);
    const verified = await s.cp.services.verifyRelayTicket(granted.relay.ticket, granted.session.id);
    assert.deepEqual(verified, {
      sessionId: granted.session.id,
      userId: w.member.userId,
      gatewayId: w.gateway.gatewayId,
      expiresAt: granted.session.expiresAt,
    });
    assert.equal(await s.cp.services.verifyRelayTicket(granted.relay.ticket, other.session.id), null);
    const [v, payload, mac] = granted.relay.ticket.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), s: other.session.id }),
    ).toString('base64url');
    assert.equal(await s.cp.services.verifyRelayTicket(`${v}.${forged}.${mac}`, other.session.id), null);
    assert.ok(Date.parse(granted.relay.expiresAt) - Date.now() - s.clock.offsetMs <= 60_000);
    s.clock.offsetMs += 61_000;
    try {
      assert.equal(await s.cp.services.verifyRelayTicket(granted.relay.ticket, granted.session.id), null);
    } finally {
      s.clock.offsetMs -= 61_000;
    }
  });

  it('gives the session target only to the session’s gateway while the session is active', async () => {
    const s = server();
    const granted = await access(s, w.memberToken, w.account.id);
    const answer = await s.cp.services.getSessionTarget(granted.session.id, w.gateway.gatewayId);
    assert.ok('target' in answer, JSON.stringify(answer));
    assert.equal(answer.target.password, ACCOUNT_PASSWORD);
    assert.equal(answer.target.username, 'app_reader');
    assert.equal(answer.target.authDatabase, 'admin');
    assert.equal(answer.target.connectionString, w.resource.connectionString);
    assert.deepEqual(answer.target.tls, { enabled: true, rejectUnauthorized: true });
    assert.equal(answer.expiresAt, granted.session.expiresAt);
    const otherGateway = await enrollGateway(s, w.adminToken, w.projectId, 'another');
    assert.ok('denied' in (await s.cp.services.getSessionTarget(granted.session.id, otherGateway.gatewayId)));
    await s.call('POST', `/sessions/${granted.session.id}/stop`, { token: w.memberToken });
    const denied = await s.cp.services.getSessionTarget(granted.session.id, w.gateway.gatewayId);
    assert.ok('denied' in denied && /not active/.test(denied.denied));
  });

  it('stores log batches idempotently, counts new commands once, and pages through them in order', async () => {
    const s = server();
    const granted = await access(s, w.memberToken, w.account.id);
    const time = new Date().toISOString();
    const command = (seq: number) => ({
      kind: 'command' as const,
      seq,
      time,
      connectionId: 'c1',
      database: 'shop',
      command: 'find',
      collection: 'orders',
      input: `{"find":"orders","n":${seq}}`,
      outcome: 'ok' as const,
      documents: seq,
      durationMs: 1,
    });
    const batch: LogBatch = {
      sessionId: granted.session.id,
      origin: 'run-1',
      events: [{ kind: 'connection', phase: 'opened', seq: 0, time, connectionId: 'c1' }, command(1), command(2), command(3)],
    };
    assert.deepEqual(await s.cp.services.appendLogBatch(batch, w.gateway.gatewayId), { stored: 4 });
    assert.deepEqual(await s.cp.services.appendLogBatch(batch, w.gateway.gatewayId), { stored: 0 });
    const more: LogBatch = { ...batch, events: [command(3), command(4)] };
    assert.deepEqual(await s.cp.services.appendLogBatch(more, w.gateway.gatewayId), { stored: 1 });
    const refused = await s.cp.services.appendLogBatch({ ...batch, origin: 'run-2' }, 'gw_aaaaaaaaaaaaaaaaaaaa');
    assert.equal(refused.stored, 0);
    assert.ok(refused.refused);
    const session = await s.call<SessionDto>('GET', `/sessions/${granted.session.id}`, { token: w.memberToken });
    assert.equal(session.body.commands, 4);

    const seqs: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await s.call('GET', `/sessions/${granted.session.id}/logs?limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
        token: w.adminToken,
      });
      assert.equal(page.status, 200);
      for (const event of page.body.items) {
        assert.equal(event.sessionId, granted.session.id);
        seqs.push(event.seq);
      }
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seqs, [0, 1, 2, 3, 4]);
    const first = await s.call('GET', `/sessions/${granted.session.id}/logs?limit=2`, { token: w.memberToken });
    assert.deepEqual(first.body.items[1], { ...command(1), sessionId: granted.session.id });
  });

  it("serves a connection event's detail (internal addresses) to admins only", async () => {
    const s = server();
    const granted = await access(s, w.memberToken, w.account.id);
    const time = new Date().toISOString();
    const failed = {
      kind: 'connection' as const,
      phase: 'failed' as const,
      seq: 0,
      time,
      connectionId: 'c1',
      message: 'Portcullis gateway could not reach the database: portcullis:shop refused the connection',
      detail: 'Portcullis gateway could not reach the database: 10.0.4.17:27017 refused the connection',
    };
    await s.cp.services.appendLogBatch({ sessionId: granted.session.id, origin: 'run-1', events: [failed] }, w.gateway.gatewayId);
    const logs = async (token: string) =>
      (await s.call('GET', `/sessions/${granted.session.id}/logs`, { token })).body.items[0] as Record<string, unknown>;
    assert.equal((await logs(w.adminToken)).detail, failed.detail);
    const seenByMember = await logs(w.memberToken);
    assert.equal(seenByMember.message, failed.message);
    assert.equal(seenByMember.detail, undefined, 'the member who ran the session does not see internal addresses');
  });

  it('refuses access while the gateway is offline, and ends its sessions when the relay says it went away', async () => {
    const s = server();
    const granted = await access(s, w.memberToken, w.account.id);
    await s.cp.services.setGatewayConnected(w.gateway.gatewayId, false, new Date(Date.now() + s.clock.offsetMs));
    try {
      const refused = await s.call('POST', `/accounts/${w.account.id}/access`, { token: w.memberToken, body: accessBody() });
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'gateway_offline');
      assert.match(refused.body.error.message, /offline/);
      const endedIds = await s.cp.services.sessions.gatewayWentOffline(w.gateway.gatewayId);
      assert.ok(endedIds.includes(granted.session.id));
      const after = await s.call<SessionDto>('GET', `/sessions/${granted.session.id}`, { token: w.memberToken });
      assert.equal(after.body.state, 'ended');
      assert.equal(after.body.endReason, 'gateway_offline');
      const actives = await listAll(s, w.adminToken, `projectId=${w.projectId}&state=active`, 100);
      assert.ok(actives.every((x) => x.gatewayId !== w.gateway.gatewayId));
    } finally {
      await s.cp.services.setGatewayConnected(w.gateway.gatewayId, true, new Date(Date.now() + s.clock.offsetMs));
    }
  });

  it('removing a member from the project ends their running sessions there', async () => {
    const s = server();
    const added = await s.call('POST', `/projects/${w.projectId}/members`, {
      token: w.adminToken,
      body: { email: w.spareEmail, role: 'member' },
    });
    assert.equal(added.status, 201);
    const spareToken = await s.login(w.spareEmail, MEMBER_PASSWORD);
    const granted = await access(s, spareToken, w.account.id);
    assert.equal((await s.call('DELETE', `/projects/${w.projectId}/members/${w.spareUserId}`, { token: w.adminToken })).status, 204);
    const after = await s.call<SessionDto>('GET', `/sessions/${granted.session.id}`, { token: w.adminToken });
    assert.equal(after.body.state, 'terminated');
    assert.equal(after.body.endedBy, s.bootstrap.email);
    assert.ok(ended.some(([id, reason]) => id === granted.session.id && reason === 'terminated'));
    assert.equal(await s.cp.services.verifyRelayTicket(granted.relay.ticket, granted.session.id), null);
  });

  it('the sweeper marks sessions past their expiry as expired', async () => {
    const s = server();
    const short = await access(s, w.memberToken, w.account.id, { durationSeconds: 60 });
    const long = await access(s, w.memberToken, w.account.id, { durationSeconds: 3600 });
    s.clock.offsetMs += 61_000;
    const expired = await eventually('the session to expire', async () => {
      const r = await s.call<SessionDto>('GET', `/sessions/${short.session.id}`, { token: w.memberToken });
      return r.body.state === 'expired' ? r.body : undefined;
    });
    assert.equal(expired.endReason, 'expired');
    assert.deepEqual(
      ended.filter(([id]) => id === short.session.id),
      [[short.session.id, 'expired', w.gateway.gatewayId]],
    );
    const still = await s.call<SessionDto>('GET', `/sessions/${long.session.id}`, { token: w.memberToken });
    assert.equal(still.body.state, 'active');
    const ticket = await s.call('POST', `/sessions/${short.session.id}/relay-tickets`, { token: w.memberToken });
    assert.equal(ticket.status, 409);
    await s.call('POST', `/sessions/${long.session.id}/stop`, { token: w.memberToken });
  });

  it('ends idle sessions (no open connection, no traffic) and keeps sessions with an open connection', async () => {
    const s = server();
    const idle = await access(s, w.memberToken, w.account.id, { durationSeconds: 7200 });
    const busy = await access(s, w.memberToken, second.id, { durationSeconds: 7200 });
    s.cp.services.sessions.connectionOpened(busy.session.id);
    s.clock.offsetMs += 1801_000;
    const idled = await eventually('the idle session to end', async () => {
      const r = await s.call<SessionDto>('GET', `/sessions/${idle.session.id}`, { token: w.memberToken });
      return r.body.state === 'ended' ? r.body : undefined;
    });
    assert.equal(idled.endReason, 'idle');
    // A full sweep after the idle one ended has passed: the busy session is still active.
    await s.cp.services.sessions.sweep();
    const busyNow = await s.call<SessionDto>('GET', `/sessions/${busy.session.id}`, { token: w.memberToken });
    assert.equal(busyNow.body.state, 'active');
    assert.equal(busyNow.body.connections, 1);
    s.cp.services.sessions.connectionClosed(busy.session.id);
    s.clock.offsetMs += 1801_000;
    await eventually('the busy session to go idle once its connection closed', async () => {
      const r = await s.call<SessionDto>('GET', `/sessions/${busy.session.id}`, { token: w.memberToken });
      return r.body.state === 'ended' && r.body.endReason === 'idle' ? r.body : undefined;
    });
  });
});
