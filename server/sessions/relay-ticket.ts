/**
 * Relay tickets: short-lived proof that a user may open relay streams for one session. Stateless: an HMAC over
 * (session id, user id, expiry) with a key derived from the root key, so any control plane process can check one.
 * Format: `rt1.<base64url payload>.<base64url mac>`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const RELAY_TICKET_TTL_SECONDS = 60;
const VERSION = 'rt1';

export interface RelayTicketClaims {
  sessionId: string;
  userId: string;
}

export function issueRelayTicket(key: Buffer, claims: RelayTicketClaims, now: Date): { ticket: string; expiresAt: string } {
  const expiresMs = now.getTime() + RELAY_TICKET_TTL_SECONDS * 1000;
  const payload = Buffer.from(JSON.stringify({ s: claims.sessionId, u: claims.userId, e: expiresMs }), 'utf8').toString('base64url');
  const mac = createHmac('sha256', key).update(`${VERSION}.${payload}`).digest('base64url');
  return { ticket: `${VERSION}.${payload}.${mac}`, expiresAt: new Date(expiresMs).toISOString() };
}

/** The ticket's claims when its MAC is right, it has not expired and it names `sessionId`; otherwise null. */
export function checkRelayTicket(key: Buffer, ticket: string, sessionId: string, now: Date): RelayTicketClaims | null {
  const parts = ticket.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return null;
  const expected = createHmac('sha256', key).update(`${VERSION}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let claims: { s?: unknown; u?: unknown; e?: unknown };
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof claims.s !== 'string' || typeof claims.u !== 'string' || typeof claims.e !== 'number') return null;
  if (claims.s !== sessionId || claims.e <= now.getTime()) return null;
  return { sessionId: claims.s, userId: claims.u };
}
