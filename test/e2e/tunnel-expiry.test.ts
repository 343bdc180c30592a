/**
 * Expiry is enforced by the gateway itself, not only by the client or the control plane. The control plane's
 * clock runs 57 s behind here, so a 60 s session (the shortest the API grants) ends 3 s from now by the
 * gateway's clock while the control plane still thinks it has a minute left and keeps accepting its tickets.
 * A raw relay client that ignores expiresAt keeps its stream open: the gateway closes it.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serialize } from 'bson';
import type { AccessGranted } from '../../protocol/api';
import { RELAY_SESSION_HEADER, RELAY_UPGRADE_PROTOCOL } from '../../protocol/relay';
import { connectTunnel } from '../../tunnel/tls';
import { accessBody, TEST_TUNNEL_PRIVATE_KEY_PEM } from '../bed/tunnel-key';
import { startTunnelBed, type TunnelBed } from './tunnel-harness';

const CLOCK_SKEW_MS = 57_000;
let bed: TunnelBed;

/** A relay data stream opened by hand: the upgraded socket, or the refusal's status and JSON error. */
function openRaw(granted: AccessGranted): Promise<{ socket: Socket } | { status: number; error: { code: string; message: string } }> {
  const url = new URL(granted.relay.url);
  url.protocol = 'http:';
  return new Promise((resolve, reject) => {
    const req = request(url, {
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: RELAY_UPGRADE_PROTOCOL,
        authorization: `Ticket ${granted.relay.ticket}`,
        [RELAY_SESSION_HEADER]: granted.session.id,
      },
    });
    // Inside the stream, the TLS every client speaks to the gateway, with the session's certificate.
    req.on('upgrade', (_res, socket: Socket) =>
      connectTunnel(socket, {
        keyPem: TEST_TUNNEL_PRIVATE_KEY_PEM,
        certificatePem: granted.tunnel.clientCertificate,
        gatewayFingerprint: granted.tunnel.gatewayFingerprint,
      }).then((secure) => resolve({ socket: secure }), reject),
    );
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, error: JSON.parse(body).error }));
    });
    req.on('error', reject);
    req.end();
  });
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

  it('closes a stream that outlives expiresAt, and refuses new ones for the session', async () => {
    const granted = (await bed.api.requestAccess(bed.account.id, accessBody({ durationSeconds: 60 }))) as AccessGranted;
    assert.equal(granted.kind, 'session');
    const expiresAt = Date.parse(granted.session.expiresAt);
    assert.ok(expiresAt - Date.now() < 10_000, 'by the real clock the session ends within seconds');

    const opened = await openRaw(granted);
    assert.ok('socket' in opened, 'the stream opened');
    const { socket } = opened;
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // A real exchange first, so the stream is served by the engine with the account's credentials.
    socket.write(pingMessage(1));
    const reply = await new Promise<Buffer>((resolve) => socket.once('data', (data: Buffer) => resolve(data)));
    assert.equal(reply.readInt32LE(12), 2013, 'an OP_MSG reply came back through the gateway');

    // The client keeps the stream open and sends nothing: only the gateway's own timer can close it.
    await closed;
    assert.ok(Date.now() >= expiresAt, 'closed at or after expiresAt, not before');
    // The control plane (57 s behind) still counts the session as active...
    assert.equal((await bed.api.getSession(granted.session.id)).state, 'active');

    // ...and still accepts the ticket, but the gateway refuses the session from now on.
    const again = await openRaw(granted);
    assert.ok('status' in again, 'the second stream was refused');
    assert.equal(again.status, 503);
    assert.equal(again.error.code, 'gateway_offline');
    assert.match(again.error.message, /ended|expired/);
  });
});
