/**
 * Search across session logs (`GET /sessions/search`) on SQLite (FTS5) and PostgreSQL (tsvector + GIN): every word
 * must match as the start of a word, newest first, paged; only the sessions the caller may see; filters by resource,
 * user and time; only what the gateway logged (masked) is searchable.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { AccessGranted, SessionSearchHit } from '../../protocol/api';
import type { SessionLogEvent } from '../../protocol/session-log';
import { accessBody } from '../bed/tunnel-key';
import { describeApi, seedWorld, type World } from './api-harness';

function command(seq: number, input: string, extra: Partial<SessionLogEvent> = {}): SessionLogEvent & { seq: number } {
  return {
    seq,
    kind: 'command',
    time: new Date(Date.UTC(2026, 11, 1, 10, 0, seq)).toISOString(),
    connectionId: 'c1',
    database: 'shop',
    command: 'find',
    collection: 'orders',
    input,
    outcome: 'ok',
    durationMs: 1,
    ...extra,
  } as SessionLogEvent & { seq: number };
}

describeApi('search across session logs', ['sqlite', 'postgres'], (server) => {
  let w: World;
  let adminSession: string;
  let memberSession: string;

  const search = async (token: string, query: Record<string, string | number>) => {
    const params = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
    const result = await server().call('GET', `/sessions/search?${params}`, { token });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    return result.body as { items: SessionSearchHit[]; nextCursor?: string };
  };
  const seqs = (hits: SessionSearchHit[]) => hits.map((h) => `${h.sessionId === adminSession ? 'a' : 'm'}${h.seq}`);

  before(async () => {
    w = await seedWorld(server());
    const start = async (token: string) =>
      ((await server().call('POST', `/accounts/${w.account.id}/access`, { token, body: accessBody() })).body as AccessGranted).session.id;
    adminSession = await start(w.adminToken);
    memberSession = await start(w.memberToken);
    const upload = (sessionId: string, events: Array<SessionLogEvent & { seq: number }>) =>
      server().cp.services.appendLogBatch({ sessionId, origin: 'run-1', events }, w.gateway.gatewayId);
    await upload(adminSession, [
      command(1, '{"find":"orders","filter":{"customer":"ada@example.com","n":4711}}'),
      command(2, '{"insert":"orders","documents":2}', { command: 'insert' }),
      command(3, '{"find":"orders","filter":{"customer":"grace@example.com"}}'),
      command(4, '{"createUser":"report","pwd":"[masked]"}', { command: 'createUser', collection: undefined, database: 'admin' }),
    ]);
    await upload(memberSession, [
      command(5, '{"find":"orders","filter":{"customer":"ada@example.com","status":"late"}}'),
      command(6, '{"aggregate":"invoices","pipeline":[{"$match":{"year":2026}}]}', { command: 'aggregate', collection: 'invoices' }),
    ]);
  });

  it('finds commands matching every word as a prefix, newest first, and pages with a cursor', async () => {
    assert.deepEqual(seqs((await search(w.adminToken, { q: 'ada' })).items), ['m5', 'a1']);
    assert.deepEqual(seqs((await search(w.adminToken, { q: 'ada 471' })).items), ['a1'], 'every word, the last as a prefix');
    assert.deepEqual(
      seqs((await search(w.adminToken, { q: 'ADA@EXAMPLE.COM' })).items),
      ['m5', 'a1'],
      'any letter case, punctuation splits words',
    );
    assert.deepEqual(seqs((await search(w.adminToken, { q: 'invoices' })).items), ['m6'], 'the collection is searchable');
    assert.deepEqual(seqs((await search(w.adminToken, { q: 'createuser' })).items), ['a4'], 'the command name is searchable');
    assert.deepEqual((await search(w.adminToken, { q: 'nobody' })).items, []);
    const first = await search(w.adminToken, { q: 'orders', limit: 2 });
    assert.deepEqual(seqs(first.items), ['m5', 'a3']);
    assert.ok(first.nextCursor);
    const second = await search(w.adminToken, { q: 'orders', limit: 2, cursor: first.nextCursor });
    assert.deepEqual(seqs(second.items), ['a2', 'a1']);
    assert.equal(second.nextCursor, undefined);
    const hit = first.items[0];
    assert.equal(hit.resourceName, w.resource.name);
    assert.equal(hit.accountName, w.account.name);
    assert.equal(hit.userEmail, w.memberEmail);
  });

  it('members find only their own sessions, outsiders nothing; filters by user, resource and time', async () => {
    assert.deepEqual(seqs((await search(w.memberToken, { q: 'ada' })).items), ['m5']);
    assert.deepEqual((await search(w.outsiderToken, { q: 'ada' })).items, []);
    assert.deepEqual(seqs((await search(w.adminToken, { q: 'ada', userId: w.member.userId })).items), ['m5']);
    assert.deepEqual(seqs((await search(w.adminToken, { q: 'ada', resourceId: w.resource.id })).items), ['m5', 'a1']);
    assert.deepEqual(seqs((await search(w.adminToken, { q: 'orders', from: '2026-12-01T10:00:02Z', to: '2026-12-01T10:00:04Z' })).items), [
      'a3',
      'a2',
    ]);
  });

  it('searches only what was logged: a masked secret cannot be found; a query without words is refused', async () => {
    assert.deepEqual(seqs((await search(w.adminToken, { q: 'masked' })).items), ['a4']);
    const empty = await server().call('GET', '/sessions/search?q=%22%2A%29', { token: w.adminToken });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.error.code, 'validation_failed');
    assert.match(empty.body.error.message, /at least one word/);
    // FTS and tsquery syntax is data, not query language.
    assert.deepEqual((await search(w.adminToken, { q: 'ada OR NOT orders" NEAR(x' })).items, []);
  });
});
