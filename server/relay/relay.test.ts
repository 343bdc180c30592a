/**
 * The relay on a real HTTP server with real peers. RelayDeps is an in-memory table here (it is the relay's own
 * contract; the e2e tests run it over the real control plane). The gateway's control channel is a real WebSocket;
 * the data streams are raw TCP sockets speaking the upgrade by hand, so that the tests can misbehave (send before
 * the answer, stop reading, flood, vanish).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { SessionEndReason } from '../../protocol/api';
import { GATEWAY_CHANNEL_CLOSE_CODES, type LogBatch, type ServerToGateway } from '../../protocol/gateway-channel';
import { RELAY_SESSION_HEADER, RELAY_UPGRADE_PROTOCOL } from '../../protocol/relay';
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
let port: number;
let relay: Relay;
let deps: MemoryDeps;
const peers: WebSocket[] = [];
const sockets: Socket[] = [];

async function startRelay(options: Parameters<typeof attachRelay>[2] = {}, expectedBack: string[] = [], makeDeps = () => new MemoryDeps()) {
  deps = makeDeps();
  deps.expectedBack = expectedBack;
  server = createServer((_req, res) => res.end());
  relay = attachRelay(server, deps, { heartbeatIntervalMs: 200, offlineGraceMs: 300, streamOpenTimeoutMs: 1000, ...options });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  base = `ws://127.0.0.1:${port}/api/v1`;
}

async function stopRelay() {
  for (const ws of peers.splice(0)) ws.terminate();
  for (const socket of sockets.splice(0)) socket.destroy();
  await relay?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
}

function track(ws: WebSocket): WebSocket {
  peers.push(ws);
  ws.on('error', () => {});
  return ws;
}

async function connectGateway(
  credential = 'cred-gw1',
  hello: { instance?: string; replicaId?: string } = {},
): Promise<GatewayPeer & { welcome: ServerToGateway }> {
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
  ws.send(JSON.stringify({ type: 'hello', version: 'test', ...hello }));
  const welcome = await next('welcome');
  return { ws, messages, next, welcome };
}

/** The relay's answer to a data stream request: 101 (the socket then carries the stream), or an error and its body. */
interface Answer {
  status: number;
  error?: { code: string; message: string };
}

/** A data stream request written by hand, with `early` bytes sent right behind it (before any answer). */
function rawStream(path: string, headers: Record<string, string>, early?: Buffer): { socket: Socket; answer: Promise<Answer> } {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {});
  const head = [`GET /api/v1${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: Upgrade', `Upgrade: ${RELAY_UPGRADE_PROTOCOL}`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  socket.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), early ?? Buffer.alloc(0)]));
  const answer = new Promise<Answer>((resolve, reject) => {
    let pending = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = Number(pending.subarray(0, end).toString('latin1').split(' ')[1]);
      if (status === 101) {
        socket.off('data', onData);
        socket.pause();
        if (pending.length > end + 4) socket.unshift(pending.subarray(end + 4));
        resolve({ status });
        return;
      }
      const length = Number(/content-length: *(\d+)/i.exec(pending.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (pending.length < end + 4 + length) return;
      socket.off('data', onData);
      resolve({ status, error: JSON.parse(pending.subarray(end + 4, end + 4 + length).toString()).error });
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`the relay closed the stream without an answer (${pending.toString()})`)));
  });
  answer.catch(() => {});
  return { socket, answer };
}

function openUser(ticket = 'tk-1', sessionId = 'ses_1', early?: Buffer) {
  return rawStream('/relay', { authorization: `Ticket ${ticket}`, [RELAY_SESSION_HEADER]: sessionId }, early);
}

function openGatewayStream(streamId: string, credential = 'cred-gw1') {
  return rawStream(`/gateway/streams/${encodeURIComponent(streamId)}`, { authorization: `Bearer ${credential}` });
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Resolves when the socket is closed (ended or cut), with everything it received until then. */
function drained(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.resume();
  return new Promise((resolve) => {
    if (socket.closed) resolve(Buffer.concat(chunks));
    else socket.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** Reads exactly `length` bytes from a paused socket. */
async function readBytes(socket: Socket, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= length) {
        socket.off('data', onData);
        socket.pause();
        const all = Buffer.concat(chunks);
        if (all.length > length) socket.unshift(all.subarray(length));
        resolve(all.subarray(0, length));
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed after ${got} of ${length} bytes`)));
    socket.resume();
  });
}

/** A user stream paired with its gateway stream. */
async function pairedStream(gateway: GatewayPeer): Promise<{ user: Socket; gw: Socket; streamId: string }> {
  const user = openUser();
  const open = (await gateway.next('stream.open')) as Extract<ServerToGateway, { type: 'stream.open' }>;
  assert.equal(open.sessionId, 'ses_1');
  const gw = openGatewayStream(open.streamId);
  assert.equal((await gw.answer).status, 101);
  assert.equal((await user.answer).status, 101);
  return { user: user.socket, gw: gw.socket, streamId: open.streamId };
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

  it('refuses a user stream with a bad ticket, or a ticket for another session, with HTTP 401', async () => {
    const wrong = await openUser('wrong').answer;
    assert.equal(wrong.status, 401);
    assert.equal(wrong.error?.code, 'unauthenticated');
    const other = await openUser('tk-1', 'ses_2').answer;
    assert.equal(other.status, 401);
  });

  it('refuses a WebSocket upgrade on a data stream path with HTTP 400', async () => {
    const ws = track(new WebSocket(`${base}/relay`, { headers: { authorization: 'Ticket tk-1', [RELAY_SESSION_HEADER]: 'ses_1' } }));
    const [, response] = await once(ws, 'unexpected-response');
    assert.equal(response.statusCode, 400);
  });

  it('pairs a user stream with the gateway stream and copies bytes both ways, early bytes included', async () => {
    // Bytes right behind the request, and more while the stream waits: none is lost, none overtakes the 101.
    const user = openUser('tk-1', 'ses_1', Buffer.from('early '));
    const open = (await gateway.next('stream.open')) as Extract<ServerToGateway, { type: 'stream.open' }>;
    user.socket.write('bytes');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(relay.stats().pendingStreams, 1);
    const gw = openGatewayStream(open.streamId);
    assert.equal((await gw.answer).status, 101);
    assert.equal((await user.answer).status, 101);
    assert.equal((await readBytes(gw.socket, 11)).toString(), 'early bytes');
    gw.socket.write('reply');
    assert.equal((await readBytes(user.socket, 5)).toString(), 'reply');
    assert.equal(relay.stats().pairedStreams, 1);
    // The client hangs up: the gateway side is ended too, after what was in flight.
    const gwGot = drained(gw.socket);
    user.socket.end('last');
    assert.equal((await gwGot).toString(), 'last');
    while (deps.closed < deps.opened) await new Promise((r) => setTimeout(r, 20));
    assert.equal(deps.opened, deps.closed);
    assert.equal(relay.stats().pairedStreams, 0);
  });

  it('refuses a gateway stream for an unknown stream id with HTTP 404', async () => {
    const answer = await openGatewayStream('str_nope').answer;
    assert.equal(answer.status, 404);
  });

  it('refuses the user stream with HTTP 503 when the gateway does not pick it up in time', async () => {
    const answer = await openUser().answer;
    assert.equal(answer.status, 503);
    assert.equal(answer.error?.code, 'gateway_offline');
    assert.match(answer.error?.message ?? '', /did not pick up/);
  });

  it('refuses the user stream with HTTP 503 and the gateway message on stream.failed', async () => {
    const user = openUser();
    const open = (await gateway.next('stream.open')) as Extract<ServerToGateway, { type: 'stream.open' }>;
    gateway.ws.send(JSON.stringify({ type: 'stream.failed', streamId: open.streamId, message: 'session expired here' }));
    const answer = await user.answer;
    assert.equal(answer.status, 503);
    assert.match(answer.error?.message ?? '', /session expired here/);
  });

  it('closes the user side when the gateway closes a paired stream (expiry enforced at the gateway)', async () => {
    const { user, gw } = await pairedStream(gateway);
    const userGot = drained(user);
    gw.end('bye');
    assert.equal((await userGot).toString(), 'bye');
  });

  it('closes both sides when the session ends, refuses its waiting streams, and tells the gateway', async () => {
    const a = await pairedStream(gateway);
    const b = await pairedStream(gateway);
    const waiting = openUser();
    await gateway.next('stream.open');
    const closes = [a.user, a.gw, b.user, b.gw].map((socket) => drained(socket));
    deps.endSession('ses_1', 'terminated', 'gw_1');
    await Promise.all(closes);
    const refused = await waiting.answer;
    assert.equal(refused.status, 410);
    assert.match(refused.error?.message ?? '', /terminated/);
    const end = await gateway.next('session.end');
    assert.deepEqual(end, { type: 'session.end', sessionId: 'ses_1', reason: 'terminated' });
    assert.equal(relay.stats().pairedStreams + relay.stats().pendingStreams, 0);
  });

  it('a slow reader does not make the relay buffer without bound: the flooding side is paused', async () => {
    const { user, gw } = await pairedStream(gateway);
    user.pause(); // the user stops reading its socket
    const chunk = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    let maxRelayBuffered = 0;
    const limit = 256 * 1024 * 1024;
    // Flood, letting the relay run between megabytes. If the relay kept reading the gateway side, the gateway's own
    // queue would stay near empty (the kernel takes it) and the relay's queue towards the user would grow instead.
    while (sent < limit && gw.writableLength < 16 * 1024 * 1024) {
      gw.write(chunk);
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
    const all = new Promise<void>((resolve) => {
      user.on('data', (data: Buffer) => {
        received += data.length;
        if (received >= sent) resolve();
      });
    });
    user.resume();
    await all;
    assert.equal(received, sent);
    const gwClosed = drained(gw);
    user.end();
    await gwClosed;
  });

  it('close() cuts every stream and closes every channel with 1001', async () => {
    const { user, gw } = await pairedStream(gateway);
    const closes = [drained(user), drained(gw)];
    const channelClosed = closeOf(gateway.ws);
    await relay.close();
    await Promise.all(closes);
    assert.equal((await channelClosed).code, 1001);
  });
});

/** Deps of a replica that shares its database with another one; the database says the gateway is online. */
class ReplicaDeps extends MemoryDeps {
  replicas = {
    id: 'rep_here',
    live: () => [
      { id: 'rep_here', url: 'http://here.internal:8443' },
      { id: 'rep_other', url: 'http://other.internal:8443' },
    ],
    onChange: () => () => {},
  };
  isGatewayRecentlySeen() {
    return true;
  }
}

describe('relay: several replicas', () => {
  before(() => startRelay({ heartbeatIntervalMs: 60_000, offlineGraceMs: 60_000, channelWaitMs: 3000 }, [], () => new ReplicaDeps()));
  after(() => stopRelay());

  it('keeps the channels of one gateway process side by side, sends stream.open on the one meant for this replica, and a new process replaces them', async () => {
    const viaBalancer = await connectGateway('cred-gw1', { instance: 'gwi_1' });
    assert.deepEqual(viaBalancer.welcome, {
      type: 'welcome',
      gatewayId: 'gw_1',
      heartbeatIntervalMs: 60_000,
      replicaId: 'rep_here',
      replicas: new ReplicaDeps().replicas.live(),
    });
    const direct = await connectGateway('cred-gw1', { instance: 'gwi_1', replicaId: 'rep_here' });
    const user = openUser();
    const open = (await direct.next('stream.open')) as Extract<ServerToGateway, { type: 'stream.open' }>;
    assert.ok(!viaBalancer.messages.some((m) => m.type === 'stream.open'), 'the channel through the balancer may reach another replica');
    assert.equal(viaBalancer.ws.readyState, WebSocket.OPEN);
    const gw = openGatewayStream(open.streamId);
    assert.equal((await gw.answer).status, 101);
    assert.equal((await user.answer).status, 101);

    const closed = [closeOf(viaBalancer.ws), closeOf(direct.ws)];
    const restarted = await connectGateway('cred-gw1', { instance: 'gwi_2', replicaId: 'rep_here' });
    for (const close of await Promise.all(closed)) assert.equal(close.code, GATEWAY_CHANNEL_CLOSE_CODES.replaced);
    restarted.ws.close();
    await closeOf(restarted.ws);
  });

  it('holds a user stream while the gateway’s channel to this replica arrives, instead of refusing it', async () => {
    while (relay.isGatewayConnected('gw_1')) await new Promise((r) => setTimeout(r, 20));
    const user = openUser();
    await new Promise((r) => setTimeout(r, 300));
    const gateway = await connectGateway('cred-gw1', { instance: 'gwi_3', replicaId: 'rep_here' });
    const open = (await gateway.next('stream.open')) as Extract<ServerToGateway, { type: 'stream.open' }>;
    const gw = openGatewayStream(open.streamId);
    assert.equal((await gw.answer).status, 101);
    assert.equal((await user.answer).status, 101);
  });
});
