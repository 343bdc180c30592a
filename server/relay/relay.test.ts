/**
 * The relay on a real HTTP server with real WebSocket peers. RelayDeps is an in-memory table here (it is the
 * relay's own contract; the e2e tests run it over the real control plane). The peers play the gateway and the
 * user with raw WebSockets so that the tests can misbehave (stop reading, flood, vanish).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { SessionEndReason } from '../../protocol/api';
import { GATEWAY_CHANNEL_CLOSE_CODES, type LogBatch, type ServerToGateway } from '../../protocol/gateway-channel';
import { RELAY_CLOSE_CODES, RELAY_SESSION_HEADER } from '../../protocol/relay';
import type { RelayDeps, SessionEndedListener } from './deps';
import { attachRelay, type Relay } from './relay';

class MemoryDeps implements RelayDeps {
  gateways = new Map([['cred-gw1', { gatewayId: 'gw_1', projectId: 'prj_1' }]]);
  tickets = new Map([['tk-1', { sessionId: 'ses_1', userId: 'usr_1', gatewayId: 'gw_1' }]]);
  connected: Array<[string, boolean]> = [];
  batches: LogBatch[] = [];
  opened = 0;
  closed = 0;
  offline: string[] = [];
  expectedBack: string[] = [];
  listeners = new Set<SessionEndedListener>();
  authenticateGateway(credential: string) {
    return this.gateways.get(credential) ?? null;
  }
  setGatewayConnected(gatewayId: string, connected: boolean) {
    this.connected.push([gatewayId, connected]);
  }
  verifyRelayTicket(ticket: string, sessionId: string) {
    const grant = this.tickets.get(ticket);
    return grant && grant.sessionId === sessionId ? grant : null;
  }
  getSessionTarget(sessionId: string, gatewayId: string) {
    if (sessionId !== 'ses_1' || gatewayId !== 'gw_1') return { denied: 'not your session' };
    return {
      target: {
        connectionString: 'mongodb://db.internal:27017/',
        authDatabase: 'admin',
        tls: { enabled: false, rejectUnauthorized: true },
        username: 'u',
        password: 'p',
      },
      expiresAt: new Date(Date.now() + 60_000),
    };
  }
  appendLogBatch(batch: LogBatch) {
    this.batches.push(batch);
  }
  touch() {}
  connectionOpened() {
    this.opened++;
  }
  connectionClosed() {
    this.closed++;
  }
  gatewayWentOffline(gatewayId: string) {
    this.offline.push(gatewayId);
  }
  gatewaysWithActiveSessions() {
    return this.expectedBack;
  }
  onSessionEnded(listener: SessionEndedListener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  endSession(sessionId: string, reason: SessionEndReason, gatewayId: string) {
    for (const listener of this.listeners) listener(sessionId, reason, gatewayId);
  }
}

interface GatewayPeer {
  ws: WebSocket;
  messages: ServerToGateway[];
  next(type: ServerToGateway['type']): Promise<ServerToGateway>;
}

let server: Server;
let base: string;
let relay: Relay;
let deps: MemoryDeps;
const peers: WebSocket[] = [];

async function startRelay(options: Parameters<typeof attachRelay>[2] = {}, expectedBack: string[] = []) {
  deps = new MemoryDeps();
  deps.expectedBack = expectedBack;
  server = createServer((_req, res) => res.end());
  relay = attachRelay(server, deps, { heartbeatIntervalMs: 200, offlineGraceMs: 300, streamOpenTimeoutMs: 1000, ...options });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
}

async function stopRelay() {
  for (const ws of peers.splice(0)) ws.terminate();
  await relay?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
}

function track(ws: WebSocket): WebSocket {
  peers.push(ws);
  ws.on('error', () => {});
  return ws;
}

async function connectGateway(credential = 'cred-gw1'): Promise<GatewayPeer> {
  const ws = track(new WebSocket(`${base}/gateway/channel`, { headers: { authorization: `Bearer ${credential}` } }));
  const messages: ServerToGateway[] = [];
  const waiters: Array<{ type: string; resolve: (m: ServerToGateway) => void }> = [];
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as ServerToGateway;
    const index = waiters.findIndex((w) => w.type === message.type);
    if (index >= 0) waiters.splice(index, 1)[0].resolve(message);
    else messages.push(message);
  });
  const next = (type: ServerToGateway['type']) =>
    new Promise<ServerToGateway>((resolve) => {
      const index = messages.findIndex((m) => m.type === type);
      if (index >= 0) resolve(messages.splice(index, 1)[0]);
      else waiters.push({ type, resolve });
    });
  await once(ws, 'open');
  ws.send(JSON.stringify({ type: 'hello', version: 'test' }));
  await next('welcome');
  return { ws, messages, next };
}

function openUser(ticket = 'tk-1', sessionId = 'ses_1'): WebSocket {
  return track(new WebSocket(`${base}/relay`, { headers: { authorization: `Ticket ${ticket}`, [RELAY_SESSION_HEADER]: sessionId } }));
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** A user stream paired with its gateway stream. */
async function pairedStream(gateway: GatewayPeer): Promise<{ user: WebSocket; gw: WebSocket; streamId: string }> {
  const user = openUser();
  await once(user, 'open');
  const open = (await gateway.next('stream.open')) as Extract<ServerToGateway, { type: 'stream.open' }>;
  assert.equal(open.sessionId, 'ses_1');
  const gw = track(new WebSocket(`${base}/gateway/streams/${open.streamId}`, { headers: { authorization: 'Bearer cred-gw1' } }));
  await once(gw, 'open');
  return { user, gw, streamId: open.streamId };
}

describe('relay: gateway control channel', () => {
  before(() => startRelay());
  after(() => stopRelay());

  it('refuses an unknown gateway credential with HTTP 401', async () => {
    const ws = track(new WebSocket(`${base}/gateway/channel`, { headers: { authorization: 'Bearer nope' } }));
    const [, response] = await once(ws, 'unexpected-response');
    assert.equal(response.statusCode, 401);
  });

  it('welcomes a gateway, records it connected, and answers heartbeats', async () => {
    const gateway = await connectGateway();
    assert.ok(relay.isGatewayConnected('gw_1'));
    assert.deepEqual(deps.connected.at(-1), ['gw_1', true]);
    gateway.ws.send(JSON.stringify({ type: 'heartbeat', time: new Date().toISOString() }));
    assert.equal((await gateway.next('heartbeat.ack')).type, 'heartbeat.ack');
    gateway.ws.close();
    await closeOf(gateway.ws);
  });

  it('answers credentials requests and acknowledges stored log batches', async () => {
    const gateway = await connectGateway();
    gateway.ws.send(JSON.stringify({ type: 'credentials.request', requestId: 'r1', sessionId: 'ses_1' }));
    const creds = await gateway.next('credentials');
    assert.equal(creds.type === 'credentials' && creds.target.username, 'u');
    gateway.ws.send(JSON.stringify({ type: 'credentials.request', requestId: 'r2', sessionId: 'ses_other' }));
    const denied = await gateway.next('credentials.denied');
    assert.equal(denied.type === 'credentials.denied' && denied.message, 'not your session');
    const batch: LogBatch = {
      sessionId: 'ses_1',
      origin: 'o1',
      events: [{ kind: 'connection', phase: 'opened', time: new Date().toISOString(), connectionId: 'c1', seq: 1 }],
    };
    gateway.ws.send(JSON.stringify({ type: 'logs', batchId: 'b1', batch }));
    const ack = await gateway.next('logs.ack');
    assert.equal(ack.type === 'logs.ack' && ack.batchId, 'b1');
    assert.deepEqual(deps.batches.at(-1), batch);
    gateway.ws.close();
    await closeOf(gateway.ws);
  });

  it('replaces an older channel of the same gateway with a newer one', async () => {
    const first = await connectGateway();
    const firstClosed = closeOf(first.ws);
    const second = await connectGateway();
    assert.equal((await firstClosed).code, GATEWAY_CHANNEL_CLOSE_CODES.replaced);
    assert.ok(relay.isGatewayConnected('gw_1'));
    second.ws.close();
    await closeOf(second.ws);
  });

  it('closes a silent channel, and ends the gateway sessions after the grace period', async () => {
    deps.offline = [];
    const gateway = await connectGateway();
    // No heartbeats from here on: the relay must give up on it after three intervals.
    const closed = await closeOf(gateway.ws);
    assert.equal(closed.code, GATEWAY_CHANNEL_CLOSE_CODES.heartbeatMissed);
    while (deps.offline.length === 0) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(deps.offline, ['gw_1']);
    assert.ok(!relay.isGatewayConnected('gw_1'));
  });

  it('does not end the sessions of a gateway that comes back within the grace period', async () => {
    deps.offline = [];
    const gateway = await connectGateway();
    gateway.ws.terminate();
    await closeOf(gateway.ws);
    const again = await connectGateway();
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(deps.offline, []);
    again.ws.close();
    await closeOf(again.ws);
  });
});

describe('relay: gateways expected back after a control plane restart', () => {
  afterEach(stopRelay);

  it('ends the sessions of a gateway with active sessions that does not reconnect within the grace period', async () => {
    await startRelay({}, ['gw_1']);
    const deadline = Date.now() + 5000;
    while (deps.offline.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(deps.offline, ['gw_1'], 'the gateway that never came back went offline');
  });

  it('leaves the sessions of a gateway that reconnects within the grace period', async () => {
    await startRelay({ heartbeatIntervalMs: 60_000, offlineGraceMs: 600 }, ['gw_1']);
    const gateway = await connectGateway();
    await new Promise((r) => setTimeout(r, 900));
    assert.deepEqual(deps.offline, []);
    const closed = closeOf(gateway.ws);
    gateway.ws.close();
    await closed;
  });
});

describe('relay: streams', () => {
  let gateway: GatewayPeer;
  before(async () => {
    await startRelay({ heartbeatIntervalMs: 60_000, offlineGraceMs: 60_000 });
    gateway = await connectGateway();
  });
  after(() => stopRelay());
  afterEach(() => {
    gateway.messages.length = 0;
  });

  it('closes a user stream with a bad ticket with 4001', async () => {
    const user = openUser('wrong');
    assert.equal((await closeOf(user)).code, RELAY_CLOSE_CODES.unauthorized);
    const other = openUser('tk-1', 'ses_2');
    assert.equal((await closeOf(other)).code, RELAY_CLOSE_CODES.unauthorized);
  });

  it('pairs a user stream with the gateway stream and copies bytes both ways, early bytes included', async () => {
    const user = openUser();
    await once(user, 'open');
    user.send(Buffer.from('early bytes'));
    const open = (await gateway.next('stream.open')) as Extract<ServerToGateway, { type: 'stream.open' }>;
    const gw = track(new WebSocket(`${base}/gateway/streams/${open.streamId}`, { headers: { authorization: 'Bearer cred-gw1' } }));
    const [first] = await once(gw, 'message');
    assert.equal(first.toString(), 'early bytes');
    gw.send(Buffer.from('reply'));
    const [reply] = await once(user, 'message');
    assert.equal(reply.toString(), 'reply');
    assert.equal(relay.stats().pairedStreams, 1);
    const gwClosed = closeOf(gw);
    user.close(1000);
    assert.equal((await gwClosed).code, RELAY_CLOSE_CODES.normal);
    assert.equal(deps.opened, deps.closed);
  });

  it('refuses a gateway stream for an unknown stream id, or from another gateway', async () => {
    const ws = track(new WebSocket(`${base}/gateway/streams/str_nope`, { headers: { authorization: 'Bearer cred-gw1' } }));
    const [, response] = await once(ws, 'unexpected-response');
    assert.equal(response.statusCode, 404);
  });

  it('closes the user stream with 4002 when the gateway does not pick it up in time', async () => {
    const user = openUser();
    const closed = await closeOf(user);
    assert.equal(closed.code, RELAY_CLOSE_CODES.gatewayUnavailable);
    assert.match(closed.reason, /did not pick up/);
  });

  it('closes the user stream with 4002 and the gateway message on stream.failed', async () => {
    const user = openUser();
    const open = (await gateway.next('stream.open')) as Extract<ServerToGateway, { type: 'stream.open' }>;
    gateway.ws.send(JSON.stringify({ type: 'stream.failed', streamId: open.streamId, message: 'session expired here' }));
    const closed = await closeOf(user);
    assert.equal(closed.code, RELAY_CLOSE_CODES.gatewayUnavailable);
    assert.match(closed.reason, /session expired here/);
  });

  it('passes the gateway’s 4000 close (expiry enforced at the gateway) on to the user', async () => {
    const { user, gw } = await pairedStream(gateway);
    const closed = closeOf(user);
    gw.close(RELAY_CLOSE_CODES.sessionEnded, 'expired');
    assert.deepEqual(await closed, { code: RELAY_CLOSE_CODES.sessionEnded, reason: 'expired' });
  });

  it('closes both sides with 4000 when the session ends, and tells the gateway', async () => {
    const a = await pairedStream(gateway);
    const b = await pairedStream(gateway);
    const closes = [closeOf(a.user), closeOf(a.gw), closeOf(b.user), closeOf(b.gw)];
    deps.endSession('ses_1', 'terminated', 'gw_1');
    for (const closed of await Promise.all(closes))
      assert.deepEqual(closed, { code: RELAY_CLOSE_CODES.sessionEnded, reason: 'terminated' });
    const end = await gateway.next('session.end');
    assert.deepEqual(end, { type: 'session.end', sessionId: 'ses_1', reason: 'terminated' });
  });

  it('a slow reader does not make the relay buffer without bound: the flooding side is paused', async () => {
    const { user, gw } = await pairedStream(gateway);
    user.pause(); // the user stops reading its socket
    const chunk = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    let maxRelayBuffered = 0;
    const limit = 256 * 1024 * 1024;
    // Flood, letting the relay run between megabytes. If the relay kept reading the gateway side, the gateway's own
    // queue would stay near empty and the relay's queue towards the user would grow instead.
    while (sent < limit && gw.bufferedAmount < 16 * 1024 * 1024) {
      gw.send(chunk);
      sent += chunk.length;
      if (sent % (1024 * 1024) === 0) {
        await new Promise((r) => setTimeout(r, 1));
        maxRelayBuffered = Math.max(maxRelayBuffered, relay.stats().bufferedBytes);
      }
    }
    assert.ok(sent < limit, `the gateway side was never held back (sent ${sent} bytes)`);
    assert.ok(maxRelayBuffered < 4 * 1024 * 1024, `the relay buffered ${maxRelayBuffered} bytes`);
    // When the user reads again, everything arrives.
    let received = 0;
    const target = sent;
    const all = new Promise<void>((resolve) => {
      user.on('message', (data: Buffer) => {
        received += data.length;
        if (received >= target) resolve();
      });
    });
    user.resume();
    await all;
    assert.equal(received, sent);
    user.close();
    await closeOf(gw);
  });

  it('close() closes every stream and channel with 1001', async () => {
    const { user, gw } = await pairedStream(gateway);
    const closes = [closeOf(user), closeOf(gw), closeOf(gateway.ws)];
    await relay.close();
    for (const closed of await Promise.all(closes)) assert.equal(closed.code, RELAY_CLOSE_CODES.goingAway);
  });
});
