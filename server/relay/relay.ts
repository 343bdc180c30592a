/**
 * attachRelay: the control plane's WebSocket endpoints on its HTTP server.
 *   /api/v1/gateway/channel          the gateway's control channel (gateway-hub.ts)
 *   /api/v1/gateway/streams/:id      the gateway's side of one client connection
 *   /api/v1/relay                    the user's side of one client connection (proxy-core)
 * A user stream is held (its early bytes queued, bounded) until the session's gateway answers `stream.open` by
 * opening the matching gateway stream; then the two are paired and frames are copied both ways (frame-pipe.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { API_ERROR_CODES, API_PREFIX, type SessionEndReason } from '../../protocol/api';
import { GATEWAY_CHANNEL_PATH, GATEWAY_STREAM_PATH } from '../../protocol/gateway-channel';
import { RELAY_CLOSE_CODES, RELAY_MAX_PAYLOAD_BYTES, RELAY_PATH, RELAY_SESSION_HEADER } from '../../protocol/relay';
import type { GatewayIdentity, RelayDeps, RelayTicketGrant } from './deps';
import { type PipeCounters, pipeFrames } from './frame-pipe';
import { GATEWAY_CHANNEL_MAX_PAYLOAD, GatewayHub } from './gateway-hub';
import { authorizationValue, closeReason, headerValue, refuseUpgrade } from './upgrade-request';

export interface RelayOptions {
  /** Sent to gateways in `welcome`; a channel silent for three intervals is closed. Default 10 s. */
  heartbeatIntervalMs?: number;
  /** How long a gateway may stay away before its sessions end with gateway_offline. Default 30 s. */
  offlineGraceMs?: number;
  /** How long a user stream waits for the gateway to open its side. Default 10 s. */
  streamOpenTimeoutMs?: number;
  /** Bytes queued towards one side before the other side is paused. Default 512 KiB. */
  highWaterMark?: number;
  /** How often sessions with traffic are reported to deps.touch. Default 5 s. */
  touchIntervalMs?: number;
  /** Bytes a user stream may send before it is paired. Default 1 MiB. */
  pendingBytesLimit?: number;
}

export interface RelayStats {
  gateways: number;
  pendingStreams: number;
  pairedStreams: number;
  /** Bytes queued in the relay's WebSockets right now (both sides of every stream). */
  bufferedBytes: number;
}

export interface Relay {
  isGatewayConnected(gatewayId: string): boolean;
  stats(): RelayStats;
  /** Closes every stream and channel with 1001 (going away) and detaches from the server. */
  close(): Promise<void>;
}

interface UserSide {
  ws: WebSocket;
  socket: Duplex;
}

interface Stream {
  streamId: string;
  sessionId: string;
  gatewayId: string;
  user: UserSide;
  gateway?: UserSide;
  /** Frames the user sent before pairing. */
  queue: Buffer[];
  queuedBytes: number;
  onEarlyMessage?: (data: Buffer) => void;
  timer?: NodeJS.Timeout;
  counters?: PipeCounters;
  /** Byte totals at the last touch sweep. */
  lastTotal: number;
  closed: boolean;
}

const CHANNEL_PATH = API_PREFIX + GATEWAY_CHANNEL_PATH;
const STREAM_PREFIX = `${API_PREFIX}${GATEWAY_STREAM_PATH}/`;
const USER_PATH = API_PREFIX + RELAY_PATH;

export function attachRelay(server: HttpServer | HttpsServer, deps: RelayDeps, options: RelayOptions = {}): Relay {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10_000;
  const streamOpenTimeoutMs = options.streamOpenTimeoutMs ?? 10_000;
  const highWaterMark = options.highWaterMark ?? 512 * 1024;
  const pendingBytesLimit = options.pendingBytesLimit ?? 1024 * 1024;

  const dataServer = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: RELAY_MAX_PAYLOAD_BYTES });
  const channelServer = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: GATEWAY_CHANNEL_MAX_PAYLOAD });
  const streams = new Map<string, Stream>();
  const bySession = new Map<string, Set<Stream>>();
  const upgrading = new Set<Duplex>();
  let closing = false;

  const log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => deps.log?.(level, message, fields);
  const call = (fn: () => unknown, what: string) => {
    Promise.resolve()
      .then(fn)
      .catch((error) => log('error', `${what} failed`, { error: error instanceof Error ? error.message : String(error) }));
  };

  const hub = new GatewayHub(
    deps,
    { heartbeatIntervalMs, offlineGraceMs: options.offlineGraceMs ?? 30_000 },
    {
      onDisconnected(gatewayId) {
        // Streams not yet picked up can no longer be; paired ones carry on over their own sockets.
        for (const stream of streams.values()) {
          if (stream.gatewayId === gatewayId && !stream.gateway) {
            closeStream(stream, RELAY_CLOSE_CODES.gatewayUnavailable, 'the gateway went offline');
          }
        }
      },
      onStreamFailed(gatewayId, streamId, message) {
        const stream = streams.get(streamId);
        if (stream && stream.gatewayId === gatewayId) {
          closeStream(stream, RELAY_CLOSE_CODES.gatewayUnavailable, closeReason(`the gateway could not open the connection: ${message}`));
        }
      },
    },
  );

  Promise.resolve()
    .then(() => deps.gatewaysWithActiveSessions?.() ?? [])
    .then((ids) => hub.expectBack(ids))
    .catch((error) => log('error', 'listing the gateways of active sessions failed', { error: String(error) }));

  const unsubscribe = deps.onSessionEnded((sessionId, reason, gatewayId) => endSession(sessionId, reason, gatewayId));
  const unsubscribeRevoked = deps.onGatewayRevoked?.((gatewayId) => {
    hub.revoke(gatewayId);
    for (const stream of [...streams.values()]) {
      if (stream.gatewayId === gatewayId) closeStream(stream, RELAY_CLOSE_CODES.gatewayUnavailable, 'the gateway was removed by an admin');
    }
  });

  const touchTimer = setInterval(touchActiveSessions, options.touchIntervalMs ?? 5000);
  touchTimer.unref();

  server.on('upgrade', onUpgrade);

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?', 1)[0];
    const route = path === CHANNEL_PATH || path === USER_PATH || path.startsWith(STREAM_PREFIX);
    if (!route) {
      // Another part of the server may serve this path; answer only when nobody else listens.
      if (server.listenerCount('upgrade') === 1) refuseUpgrade(socket, 404, API_ERROR_CODES.notFound, `no WebSocket endpoint at ${path}`);
      return;
    }
    if (closing) {
      refuseUpgrade(socket, 503, API_ERROR_CODES.internal, 'the control plane is shutting down; retry shortly');
      return;
    }
    let handler: Promise<void>;
    if (path === CHANNEL_PATH) handler = upgradeGatewayChannel(req, socket, head);
    else if (path === USER_PATH) handler = upgradeUserStream(req, socket, head);
    else handler = upgradeGatewayStream(req, socket, head, safeDecode(path.slice(STREAM_PREFIX.length)));
    // Errors before the upgrade completes (the peer hung up while we checked its credential) are not ours to report.
    const ignore = () => {};
    socket.on('error', ignore);
    upgrading.add(socket);
    handler
      .catch((error) => {
        log('error', 'a WebSocket upgrade failed', { path, error: error instanceof Error ? error.message : String(error) });
        refuseUpgrade(socket, 503, API_ERROR_CODES.internal, 'the control plane could not accept the connection; retry shortly');
      })
      .finally(() => {
        upgrading.delete(socket);
        socket.off('error', ignore);
      });
  }

  async function authenticateGateway(req: IncomingMessage, socket: Duplex): Promise<GatewayIdentity | undefined> {
    const credential = authorizationValue(req, 'Bearer');
    const identity = credential ? await deps.authenticateGateway(credential) : null;
    if (!identity) {
      refuseUpgrade(
        socket,
        401,
        API_ERROR_CODES.unauthenticated,
        'the gateway credential is missing, unknown or revoked; enroll the gateway again',
      );
      return undefined;
    }
    return identity;
  }

  function upgrade(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket | undefined> {
    if (socket.destroyed || closing) {
      socket.destroy();
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => wss.handleUpgrade(req, socket, head, (ws) => resolve(ws)));
  }

  async function upgradeGatewayChannel(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const identity = await authenticateGateway(req, socket);
    if (!identity) return;
    const ws = await upgrade(channelServer, req, socket, head);
    if (ws) hub.accept(ws, identity);
  }

  async function upgradeGatewayStream(req: IncomingMessage, socket: Duplex, head: Buffer, streamId: string): Promise<void> {
    const identity = await authenticateGateway(req, socket);
    if (!identity) return;
    const stream = streams.get(streamId);
    if (!stream || stream.gateway || stream.closed || stream.gatewayId !== identity.gatewayId) {
      refuseUpgrade(
        socket,
        404,
        API_ERROR_CODES.notFound,
        `no stream ${streamId} is waiting for this gateway (it timed out or the client left)`,
      );
      return;
    }
    const ws = await upgrade(dataServer, req, socket, head);
    if (!ws) return;
    if (stream.closed) {
      ws.close(RELAY_CLOSE_CODES.peerLost, 'the client left before the stream was paired');
      return;
    }
    pair(stream, { ws, socket });
  }

  async function upgradeUserStream(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const ticket = authorizationValue(req, 'Ticket');
    const sessionId = headerValue(req, RELAY_SESSION_HEADER);
    const grant: RelayTicketGrant | null = ticket && sessionId ? await deps.verifyRelayTicket(ticket, sessionId) : null;
    const ws = await upgrade(dataServer, req, socket, head);
    if (!ws) return;
    // Refusals are close codes, not HTTP errors, so that proxy-core can tell them apart (see RELAY_CLOSE_CODES).
    if (!grant || grant.sessionId !== sessionId) {
      ws.close(RELAY_CLOSE_CODES.unauthorized, 'the relay ticket is missing, expired, or not for this session');
      return;
    }
    (socket as Socket).setNoDelay?.(true);
    const stream: Stream = {
      streamId: `str_${randomBytes(12).toString('base64url')}`,
      sessionId,
      gatewayId: grant.gatewayId,
      user: { ws, socket },
      queue: [],
      queuedBytes: 0,
      lastTotal: 0,
      closed: false,
    };
    streams.set(stream.streamId, stream);
    const set = bySession.get(sessionId) ?? new Set<Stream>();
    bySession.set(sessionId, set);
    set.add(stream);

    stream.onEarlyMessage = (data: Buffer) => {
      stream.queue.push(data);
      stream.queuedBytes += data.length;
      if (stream.queuedBytes > pendingBytesLimit) {
        closeStream(stream, RELAY_CLOSE_CODES.gatewayUnavailable, 'too much data before the gateway picked up the connection');
      }
    };
    ws.on('message', stream.onEarlyMessage);
    ws.on('close', (code: number) => onSideClosed(stream, 'user', code));
    ws.on('error', () => {});

    if (!hub.send(stream.gatewayId, { type: 'stream.open', streamId: stream.streamId, sessionId })) {
      closeStream(stream, RELAY_CLOSE_CODES.gatewayUnavailable, 'the gateway serving this database is offline');
      return;
    }
    stream.timer = setTimeout(
      () => closeStream(stream, RELAY_CLOSE_CODES.gatewayUnavailable, 'the gateway did not pick up the connection in time'),
      streamOpenTimeoutMs,
    );
  }

  function pair(stream: Stream, gateway: UserSide): void {
    clearTimeout(stream.timer);
    stream.gateway = gateway;
    (gateway.socket as Socket).setNoDelay?.(true);
    if (stream.onEarlyMessage) stream.user.ws.off('message', stream.onEarlyMessage);
    stream.onEarlyMessage = undefined;
    for (const data of stream.queue) gateway.ws.send(data, { binary: true });
    stream.queue = [];
    stream.queuedBytes = 0;
    stream.counters = pipeFrames(stream.user, gateway, highWaterMark);
    gateway.ws.on('close', (code: number, reason: Buffer) => onSideClosed(stream, 'gateway', code, reason.toString()));
    gateway.ws.on('error', () => {});
    call(() => deps.connectionOpened(stream.sessionId), 'recording a connection opened');
  }

  /** One side closed: close the other with a code that tells what happened, and forget the stream. */
  function onSideClosed(stream: Stream, side: 'user' | 'gateway', code: number, reason = ''): void {
    if (stream.closed) return;
    if (side === 'user') {
      closeStream(stream, code === RELAY_CLOSE_CODES.normal ? RELAY_CLOSE_CODES.normal : RELAY_CLOSE_CODES.peerLost, 'the client left');
    } else if (
      code === RELAY_CLOSE_CODES.normal ||
      code === RELAY_CLOSE_CODES.sessionEnded ||
      code === RELAY_CLOSE_CODES.gatewayUnavailable
    ) {
      // The database hung up, the gateway ended the session (expiry), or it could not serve the connection:
      // pass the gateway's code and reason on.
      closeStream(stream, code, closeReason(reason));
    } else {
      closeStream(stream, RELAY_CLOSE_CODES.peerLost, 'the gateway side of this connection was lost');
    }
  }

  function closeStream(stream: Stream, code: number, reason: string): void {
    if (stream.closed) return;
    stream.closed = true;
    clearTimeout(stream.timer);
    streams.delete(stream.streamId);
    const set = bySession.get(stream.sessionId);
    set?.delete(stream);
    if (set?.size === 0) bySession.delete(stream.sessionId);
    closeSocket(stream.user.ws, code, reason);
    if (stream.gateway) {
      closeSocket(stream.gateway.ws, code, reason);
      call(() => deps.connectionClosed(stream.sessionId), 'recording a connection closed');
    }
  }

  function endSession(sessionId: string, reason: SessionEndReason, gatewayId: string): void {
    for (const stream of [...(bySession.get(sessionId) ?? [])]) closeStream(stream, RELAY_CLOSE_CODES.sessionEnded, reason);
    hub.send(gatewayId, { type: 'session.end', sessionId, reason });
  }

  function touchActiveSessions(): void {
    const active = new Set<string>();
    for (const stream of streams.values()) {
      if (!stream.counters) continue;
      const total = stream.counters.aToB + stream.counters.bToA;
      if (total !== stream.lastTotal) {
        stream.lastTotal = total;
        active.add(stream.sessionId);
      }
    }
    for (const sessionId of active) call(() => deps.touch(sessionId), 'recording session activity');
  }

  return {
    isGatewayConnected: (gatewayId) => hub.isConnected(gatewayId),
    stats() {
      let bufferedBytes = 0;
      let paired = 0;
      for (const stream of streams.values()) {
        bufferedBytes += stream.user.ws.bufferedAmount + stream.queuedBytes;
        if (stream.gateway) {
          paired++;
          bufferedBytes += stream.gateway.ws.bufferedAmount;
        }
      }
      return { gateways: hub.size, pendingStreams: streams.size - paired, pairedStreams: paired, bufferedBytes };
    },
    async close() {
      if (closing) return;
      closing = true;
      server.off('upgrade', onUpgrade);
      unsubscribe();
      unsubscribeRevoked?.();
      clearInterval(touchTimer);
      for (const socket of upgrading) socket.destroy();
      for (const stream of [...streams.values()]) closeStream(stream, RELAY_CLOSE_CODES.goingAway, 'the control plane is shutting down');
      await hub.close();
      // Peers that do not answer the close handshake are cut after a second so that shutdown is bounded.
      const stragglers = [...dataServer.clients, ...channelServer.clients];
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const ws of stragglers) ws.terminate();
          resolve();
        }, 1000);
        let open = stragglers.filter((ws) => ws.readyState !== WebSocket.CLOSED).length;
        if (open === 0) {
          clearTimeout(timer);
          resolve();
          return;
        }
        for (const ws of stragglers) {
          ws.once('close', () => {
            if (--open === 0) {
              clearTimeout(timer);
              resolve();
            }
          });
        }
      });
      dataServer.close();
      channelServer.close();
    },
  };
}

function closeSocket(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
  // A peer that never answers the closing handshake must not hold the socket (and its buffers) forever.
  setTimeout(() => ws.terminate(), 2000).unref();
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
