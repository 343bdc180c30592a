/**
 * Expiry is enforced by the gateway itself, not only by the client or the control plane. The control plane's
 * clock runs 57 s behind here, so a 60 s session (the shortest the API grants) ends 3 s from now by the
 * gateway's clock while the control plane still thinks it has a minute left and keeps accepting its tickets.
 * A raw relay client that ignores expiresAt keeps its stream open: the gateway closes it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serialize } from 'bson';
import WebSocket from 'ws';
import type { AccessGranted } from '../../protocol/api';
import { RELAY_CLOSE_CODES, RELAY_SESSION_HEADER } from '../../protocol/relay';
import { startTunnelBed, type TunnelBed } from './tunnel-harness';

const CLOCK_SKEW_MS = 57_000;
let bed: TunnelBed;

function openRaw(granted: AccessGranted): WebSocket {
  const ws = new WebSocket(granted.relay.url, {
    headers: { authorization: `Ticket ${granted.relay.ticket}`, [RELAY_SESSION_HEADER]: granted.session.id },
  });
  ws.on('error', () => {});
  return ws;
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** An OP_MSG `{ping: 1, $db: 'admin'}` as a client would send it. */
function pingMessage(requestId: number): Buffer {
  const body = serialize({ ping: 1, $db: 'admin' });
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + body.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(2013, 12);
  header.writeUInt32LE(0, 16);
  header.writeUInt8(0, 20);
  return Buffer.concat([header, body]);
}

describe('tunnel: expiry enforced at the gateway', () => {
  before(async () => {
    bed = await startTunnelBed({ now: () => new Date(Date.now() - CLOCK_SKEW_MS) });
  });
  after(() => bed?.stop());

  it('closes a stream that outlives expiresAt with 4000 expired, and refuses new ones for the session', async () => {
    const granted = (await bed.api.requestAccess(bed.account.id, { durationSeconds: 60 })) as AccessGranted;
    assert.equal(granted.kind, 'session');
    const expiresAt = Date.parse(granted.session.expiresAt);
    assert.ok(expiresAt - Date.now() < 10_000, 'by the real clock the session ends within seconds');

    const ws = openRaw(granted);
    const closed = closeOf(ws);
    await new Promise((resolve) => ws.once('open', resolve));
    // A real exchange first, so the stream is served by the engine with the account's credentials.
    ws.send(pingMessage(1));
    const reply = await new Promise<Buffer>((resolve) => ws.once('message', (data: Buffer) => resolve(data)));
    assert.equal(reply.readInt32LE(12), 2013, 'an OP_MSG reply came back through the gateway');

    const result = await closed;
    assert.deepEqual(result, { code: RELAY_CLOSE_CODES.sessionEnded, reason: 'expired' });
    assert.ok(Date.now() >= expiresAt, 'closed at or after expiresAt, not before');
    // The control plane (57 s behind) still counts the session as active...
    assert.equal((await bed.api.getSession(granted.session.id)).state, 'active');

    // ...and still accepts the ticket, but the gateway refuses the session from now on.
    const again = openRaw(granted);
    const refused = await closeOf(again);
    assert.equal(refused.code, RELAY_CLOSE_CODES.gatewayUnavailable);
    assert.match(refused.reason, /ended|expired/);
  });
});
