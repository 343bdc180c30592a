/**
 * A small real HTTP server that plays the control plane's side of the gateway protocol, one step at a time, for
 * tests that need the control plane to fail at a chosen moment: answer a data stream with 404 or 503, close it,
 * reset it after the 101, deny credentials, drop the control channel, refuse the channel's reconnection.
 *
 * Why not the real control plane: its answers follow from its state, and their order is a race. A data stream is
 * answered 404 only when the user's stream has already gone, 503 only while the control plane shuts down, and its
 * credentials answer is one quick query, so it cannot be made to fail a stream *before* the credentials arrive
 * (the order that crashed the gateway, issue 12). The wire format here is the real one: the same paths, the
 * control channel's JSON messages (protocol/gateway-channel.ts) over a `ws` WebSocket, and the real relay's 101
 * and refusal bytes (server/relay/upgrade-request.ts). It also vouches for sessions as the real one does (end-to-end
 * encryption): a tunnel CA of its own issues each session's certificate, `credentials` carry the pins, and
 * `encrypt` is the client's TLS end, pinned to the certificate the gateway presented in its hello.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { API_PREFIX } from '../../protocol/api';
import {
  GATEWAY_CHANNEL_PATH,
  GATEWAY_STREAM_PATH,
  type GatewayToServer,
  type ServerToGateway,
  type SessionTunnelPins,
} from '../../protocol/gateway-channel';
import type { MongoTarget } from '../../protocol/target';
import { refuseUpgrade, STREAM_SWITCHING_PROTOCOLS } from '../../server/relay/upgrade-request';
import { createTunnelCaCertificate, issueSessionCertificate } from '../../tunnel/certificates';
import { certificateFingerprint } from '../../tunnel/fingerprint';
import { connectTunnel } from '../../tunnel/tls';

const CHANNEL = API_PREFIX + GATEWAY_CHANNEL_PATH;
const STREAMS = `${API_PREFIX}${GATEWAY_STREAM_PATH}/`;

/** The gateway's request for one data stream, not answered yet: the test answers it. */
export class StreamRequest {
  constructor(
    readonly streamId: string,
    readonly socket: Socket,
    private readonly head: Buffer,
  ) {
    socket.on('error', () => {});
    // The server's sockets allow half-open connections: when the gateway closes its side, close ours, as the
    // relay does.
    socket.on('end', () => {
      this.ended = true;
      socket.end();
    });
  }

  /** The gateway closed its side. */
  ended = false;

  /** The gateway's side is gone (it closed it, or the connection is down). */
  get gone(): boolean {
    return this.ended || this.socket.destroyed;
  }

  /** 101: from now on the socket carries the client's MongoDB bytes. */
  accept(): Socket {
    this.socket.write(STREAM_SWITCHING_PROTOCOLS);
    if (this.head.length > 0) this.socket.unshift(this.head);
    return this.socket;
  }

  /** An HTTP error with the API's JSON error body, as the relay refuses. */
  refuse(status: 404 | 503): void {
    refuseUpgrade(
      this.socket,
      status,
      status === 404 ? 'not_found' : 'internal',
      status === 404 ? 'no stream with that id is waiting for this gateway' : 'the control plane is shutting down',
    );
  }

  /** The connection closes without an answer. */
  close(): void {
    this.socket.destroy();
  }

  /** 101, then a TCP reset: the socket fails after the gateway got it. */
  acceptThenReset(): void {
    this.socket.write(STREAM_SWITCHING_PROTOCOLS, () => setTimeout(() => this.socket.resetAndDestroy(), 20));
  }
}

/** A session's certificate and key, and what the gateway is told to pin for it. */
interface SessionTunnel {
  keyPem: string;
  certificatePem: string;
  pins: SessionTunnelPins;
}

export class ScriptedControlPlane {
  readonly messages: GatewayToServer[] = [];
  readonly credential = `pcg_${randomBytes(24).toString('base64url')}`;
  /** Answered automatically with `target` (a session the test does not script). */
  readonly autoCredentials = new Map<string, MongoTarget>();
  /** Data streams answered 101 automatically, handed to `onAccepted`. */
  readonly autoAccept = new Map<string, (socket: Socket) => void>();
  /** Statuses for the next control channel upgrades (then they are accepted again). */
  readonly refuseChannelWith: Array<404 | 503> = [];
  channelConnections = 0;

  /** The fingerprint of the tunnel certificate the gateway presented in its last hello. */
  gatewayFingerprint: string | undefined;

  private channel: WebSocket | undefined;
  private readonly tunnelCaKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  private readonly tunnelCa = createTunnelCaCertificate(this.tunnelCaKey, 'prj_scripted');
  private readonly tunnels = new Map<string, Promise<SessionTunnel>>();
  /** The same, once issued: `send` adds their pins to a `credentials` message synchronously. */
  private readonly issuedTunnels = new Map<string, SessionTunnel>();
  private readonly streamRequests = new Map<string, StreamRequest>();
  private readonly waiters = new Set<() => void>();
  private readonly wss = new WebSocketServer({ noServer: true });

  private constructor(private readonly server: Server) {
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(request, socket, head));
    server.on('request', (_request, response) => {
      response.statusCode = 404;
      response.end();
    });
  }

  static async start(): Promise<ScriptedControlPlane> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new ScriptedControlPlane(server);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get channelOpen(): boolean {
    return this.channel?.readyState === WebSocket.OPEN;
  }

  /** Sends on the control channel; a `credentials` message gets its session's pins (await `tunnelOf` first). */
  send(message: ServerToGateway): void {
    if (!this.channel || this.channel.readyState !== WebSocket.OPEN) throw new Error('the gateway is not connected to the control channel');
    this.channel.send(JSON.stringify(this.withPins(message)));
  }

  /** The session's certificate (issued once, by this control plane's tunnel CA) and its pins. */
  tunnelOf(sessionId: string): Promise<SessionTunnel> {
    let tunnel = this.tunnels.get(sessionId);
    if (!tunnel) {
      tunnel = this.issueTunnel(sessionId);
      this.tunnels.set(sessionId, tunnel);
    }
    return tunnel;
  }

  /** The client's TLS end of a served data stream, as proxy-core does it, with `sessionId`'s certificate. */
  async encrypt(socket: Socket, sessionId: string): Promise<Socket> {
    const tunnel = await this.tunnelOf(sessionId);
    if (!this.gatewayFingerprint) throw new Error('the gateway presented no tunnel certificate in its hello');
    return connectTunnel(socket, {
      keyPem: tunnel.keyPem,
      certificatePem: tunnel.certificatePem,
      gatewayFingerprint: this.gatewayFingerprint,
    });
  }

  private async issueTunnel(sessionId: string): Promise<SessionTunnel> {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const certificatePem = await issueSessionCertificate({
      caKey: this.tunnelCaKey,
      projectId: 'prj_scripted',
      publicKey: pair.publicKey,
      sessionId,
      notAfter: new Date(Date.now() + 3600_000),
    });
    const tunnel: SessionTunnel = {
      keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      certificatePem,
      pins: { clientCa: await this.tunnelCa, clientFingerprint: certificateFingerprint(certificatePem) },
    };
    this.issuedTunnels.set(sessionId, tunnel);
    return tunnel;
  }

  private withPins(message: ServerToGateway): ServerToGateway {
    if (message.type !== 'credentials' || message.tunnel) return message;
    const tunnel = this.issuedTunnels.get(message.sessionId);
    if (!tunnel)
      throw new Error(`no certificate issued for ${message.sessionId} yet: await tunnelOf(sessionId) before sending its credentials`);
    return { ...message, tunnel: tunnel.pins };
  }

  /** Closes the control channel the way a crashing control plane does (no close frame). */
  dropChannel(): void {
    this.channel?.terminate();
    this.channel = undefined;
  }

  /** Resolves with the first message (from now on or already received) that matches, or fails after `timeoutMs`. */
  async message<T extends GatewayToServer>(
    match: (m: GatewayToServer) => m is T,
    what: string,
    options: { since?: number; timeoutMs?: number; unless?: () => string | undefined } = {},
  ): Promise<T> {
    const since = options.since ?? 0;
    const found = await this.until(() => this.messages.slice(since).find(match), what, options);
    return found as T;
  }

  /** The gateway's next request for `streamId`'s data stream, unanswered. */
  streamRequest(streamId: string, options: { timeoutMs?: number; unless?: () => string | undefined } = {}): Promise<StreamRequest> {
    return this.until(() => this.streamRequests.get(streamId), `the gateway's request for data stream ${streamId}`, options);
  }

  /** Waits for `what` to be found; fails early with the reason `unless` gives (e.g. the gateway exited). */
  async until<T>(
    find: () => T | undefined,
    what: string,
    options: { timeoutMs?: number; unless?: () => string | undefined } = {},
  ): Promise<T> {
    const deadline = Date.now() + (options.timeoutMs ?? 15_000);
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      const stop = options.unless?.();
      if (stop) throw new Error(`while waiting for ${what}: ${stop}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, 50);
        this.waiters.add(wake);
      });
    }
  }

  async close(): Promise<void> {
    this.channel?.terminate();
    for (const request of this.streamRequests.values()) request.socket.destroy();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private wake(): void {
    for (const wake of [...this.waiters]) wake();
  }

  private upgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (request.headers.authorization !== `Bearer ${this.credential}`) {
      refuseUpgrade(socket, 401, 'unauthenticated', 'unknown gateway credential');
      return;
    }
    if (path === CHANNEL) {
      const status = this.refuseChannelWith.shift();
      if (status !== undefined) {
        refuseUpgrade(socket, status, status === 404 ? 'not_found' : 'internal', `refused by the test (${status})`);
        this.wake();
        return;
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => this.channelOpened(ws));
      return;
    }
    if (path.startsWith(STREAMS)) {
      const streamId = decodeURIComponent(path.slice(STREAMS.length));
      const stream = new StreamRequest(streamId, socket, head);
      const onAccepted = this.autoAccept.get(streamId);
      if (onAccepted) onAccepted(stream.accept());
      else this.streamRequests.set(streamId, stream);
      this.wake();
      return;
    }
    refuseUpgrade(socket, 404, 'not_found', `no upgrade endpoint at ${path}`);
  }

  private channelOpened(ws: WebSocket): void {
    this.channel?.terminate();
    this.channel = ws;
    this.channelConnections++;
    ws.on('error', () => {});
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as GatewayToServer;
      this.messages.push(message);
      this.answer(ws, message);
      this.wake();
    });
  }

  private answer(ws: WebSocket, message: GatewayToServer): void {
    const reply = (m: ServerToGateway) => ws.send(JSON.stringify(m));
    switch (message.type) {
      case 'hello':
        this.gatewayFingerprint = message.tunnelCertificate ? certificateFingerprint(message.tunnelCertificate) : undefined;
        reply({ type: 'welcome', gatewayId: 'gw_scripted', heartbeatIntervalMs: 10_000 });
        return;
      case 'heartbeat':
        reply({ type: 'heartbeat.ack', time: new Date().toISOString() });
        return;
      case 'logs':
        reply({ type: 'logs.ack', batchId: message.batchId });
        return;
      case 'credentials.request': {
        const target = this.autoCredentials.get(message.sessionId);
        const { requestId, sessionId } = message;
        // Issued now, so that a test answering by hand finds the pins ready (credentialsOf awaits them too).
        void this.tunnelOf(sessionId).then((tunnel) => {
          if (!target) return;
          const expiresAt = new Date(Date.now() + 3600_000).toISOString();
          reply({ type: 'credentials', requestId, sessionId, target, expiresAt, tunnel: tunnel.pins });
        });
        return;
      }
      default:
        return;
    }
  }
}
