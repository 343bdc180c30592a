import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkRelayTicket, issueRelayTicket, RELAY_TICKET_TTL_SECONDS } from './relay-ticket';

describe('relay tickets', () => {
  const key = randomBytes(32);
  const now = new Date('2026-01-01T00:00:00Z');
  const claims = { sessionId: 'ses_aaaaaaaaaaaaaaaaaaaa', userId: 'usr_bbbbbbbbbbbbbbbbbbbb' };

  it('round-trips for the session it names until it expires after 60 s', () => {
    const { ticket, expiresAt } = issueRelayTicket(key, claims, now);
    assert.equal(Date.parse(expiresAt) - now.getTime(), RELAY_TICKET_TTL_SECONDS * 1000);
    assert.deepEqual(checkRelayTicket(key, ticket, claims.sessionId, now), claims);
    assert.deepEqual(checkRelayTicket(key, ticket, claims.sessionId, new Date(now.getTime() + 59_999)), claims);
    assert.equal(checkRelayTicket(key, ticket, claims.sessionId, new Date(now.getTime() + 60_000)), null);
  });

  it('refuses another session, another key, a changed payload or MAC, and garbage', () => {
    const { ticket } = issueRelayTicket(key, claims, now);
    assert.equal(checkRelayTicket(key, ticket, 'ses_cccccccccccccccccccc', now), null);
    assert.equal(checkRelayTicket(randomBytes(32), ticket, claims.sessionId, now), null);
    const [v, payload, mac] = ticket.split('.');
    const longer = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), e: now.getTime() + 3_600_000 }),
    ).toString('base64url');
    assert.equal(checkRelayTicket(key, `${v}.${longer}.${mac}`, claims.sessionId, now), null);
    assert.equal(checkRelayTicket(key, `${v}.${payload}.${mac.slice(0, -2)}AA`, claims.sessionId, now), null);
    for (const junk of ['', 'rt1', 'rt1..', 'rt2.a.b', 'a.b.c.d']) assert.equal(checkRelayTicket(key, junk, claims.sessionId, now), null);
  });
});
