/**
 * attachRelay: the control plane's upgrade endpoints on its HTTP server.
 *   /api/v1/gateway/channel          the gateway's control channel, a WebSocket (gateway-hub.ts)
 *   /api/v1/gateway/streams/:id      the gateway's side of one client connection, a raw data stream
 *   /api/v1/relay                    the user's side of one client connection (proxy-core), a raw data stream
 * A user stream is held, unanswered and unread (early bytes wait in the kernel), until the session's gateway answers
 * `stream.open` by opening the matching gateway stream; then both get 101 and are piped into each other
 * (stream-pipe.ts). See protocol/relay.ts. A session whose gateway runs in this process (options.localGateways) gets
 * its 101 at once and its socket is handed to that agent directly.
 */
import { randomBytes } from 'node:crypto';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { API_ERROR_CODES, API_PREFIX, type SessionEndReason } from '../../protocol/api';
import { GATEWAY_CHANNEL_PATH, GATEWAY_STREAM_PATH } from '../../protocol/gateway-channel';
import { RELAY_PATH, RELAY_SESSION_HEADER, RELAY_UPGRADE_PROTOCOL } from '../../protocol/relay';
import type { GatewayIdentity, LocalGateways, RelayDeps, RelayTicketGrant } from './deps';
import { GATEWAY_CHANNEL_MAX_PAYLOAD, GatewayHub } from './gateway-hub';
import { handOverStream, pipeStreams, type StreamPipe } from './stream-pipe';
import { authorizationValue, headerValue, isStreamUpgrade, refuseUpgrade, STREAM_SWITCHING_PROTOCOLS } from './upgrade-request';

export interface RelayOptions {
  /** Sent to gateways in `welcome`; a channel silent for three intervals is closed. Default 10 s. */
  heartbeatIntervalMs?: number;
  /** How long a gateway may stay away before its sessions end with gateway_offline. Default 30 s. */
  offlineGraceMs?: number;
  /**
   * How long a user stream waits for the gateway's channel to this replica when the gateway has none here yet but
   * another replica heard from it recently (this replica just started, the gateway is connecting). Default 5 s.
   */
  channelWaitMs?: number;
  /** How long a user stream waits for the gateway to open its side. Default 10 s. */
  streamOpenTimeoutMs?: number;
  /** How often sessions with traffic are reported to deps.touch. Default 5 s. */
  touchIntervalMs?: number;
  /** Gateways in this process: their streams skip `stream.open` and the loopback data stream. */
  localGateways?: LocalGateways;
}

export interface RelayStats {
  gateways: number;
  pendingStreams: number;
  pairedStreams: number;
  /** Of pairedStreams, those handed to a gateway in this process (options.localGateways). */
  localStreams: number;
  /** Bytes held in the relay's socket buffers right now (both sides of every stream). */
  bufferedBytes: number;
  /** Bytes read from and written to clients' stream sockets since start (the metrics). */
  bytesFromClients: number;
  bytesToClients: number;
  /** Client streams refused since start, by error code. */
  refusals: Readonly<Record<string, number>>;
}

export interface Relay {
  isGatewayConnected(gatewayId: string): boolean;
  stats(): RelayStats;
  /** Cuts every stream, closes every channel with 1001 (going away), and detaches from the server. */
  close(): Promise<void>;
}

/** One side of a stream before pairing: its socket and the bytes the HTTP parser read past the request. */
interface Side {
  socket: Socket;
  head: Buffer;
}

interface Stream {
  streamId: string;
  sessionId: string;
  gatewayId: string;
  user: Side;
  pipe?: StreamPipe;
  /** Served by a gateway in this process (no gateway-side socket). */
  local?: boolean;
  timer?: NodeJS.Timeout;
  /** Byte total at the last touch sweep. */
  lastTotal: number;
  closed: boolean;
}

/** Why a pending user stream is refused: HTTP status, API error code, message. */
type Refusal = readonly [number, string, string];

const CHANNEL_PATH = API_PREFIX + GATEWAY_CHANNEL_PATH;
const STREAM_PREFIX = `${API_PREFIX}${GATEWAY_STREAM_PATH}/`;
const USER_PATH = API_PREFIX + RELAY_PATH;
const GATEWAY_UNAVAILABLE = 503;

export function attachRelay(server: HttpServer | HttpsServer, deps: RelayDeps, options: RelayOptions = {}): Relay {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10_000;
  const streamOpenTimeoutMs = options.streamOpenTimeoutMs ?? 10_000;
  const channelWaitMs = options.channelWaitMs ?? 5000;

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
  const unavailable = (message: string): Refusal => [GATEWAY_UNAVAILABLE, API_ERROR_CODES.gatewayOffline, message];

  const hub = new GatewayHub(
    deps,
    { heartbeatIntervalMs, offlineGraceMs: options.offlineGraceMs ?? 30_000 },
    {
      onDisconnected(gatewayId) {
        // Streams not yet picked up can no longer be; paired ones carry on over their own sockets.
        for (const stream of streams.values()) {
          if (stream.gatewayId === gatewayId && !stream.pipe) closeStream(stream, unavailable('the gateway went offline'));
        }
      },
      onStreamFailed(gatewayId, streamId, message) {
        const stream = streams.get(streamId);
        if (stream && stream.gatewayId === gatewayId) {
          closeStream(stream, unavailable(`the gateway could not open the connection: ${message}`));
          if (stream.pipe) log('warn', `the gateway refused a paired stream: ${message}`, { gatewayId, sessionId: stream.sessionId });
        }
      },
    },
  );

  deps.provideConnectionTester?.((gatewayId, target) => hub.testConnection(gatewayId, target));

  Promise.resolve()
    .then(() => deps.gatewaysWithActiveSessions?.() ?? [])
    .then((ids) => hub.expectBack(ids))
    .catch((error) => log('error', 'listing the gateways of active sessions failed', { error: String(error) }));

  const unsubscribe = deps.onSessionEnded((sessionId, reason, gatewayId) => endSession(sessionId, reason, gatewayId));
  const unsubscribeRefresh = deps.onSessionsRefresh?.((gatewayId, sessionIds) => {
    hub.send(gatewayId, { type: 'session.refresh', sessionIds });
  });
  const unsubscribeRevoked = deps.onGatewayRevoked?.((gatewayId) => {
    hub.revoke(gatewayId);
    for (const stream of [...streams.values()]) {
      if (stream.gatewayId === gatewayId) closeStream(stream, unavailable('the gateway was removed by an admin'));
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
      if (server.listenerCount('upgrade') === 1) refuseUpgrade(socket, 404, API_ERROR_CODES.notFound, `no upgrade endpoint at ${path}`);
      return;
    }
    if (closing) {
      refuseUpgrade(socket, 503, API_ERROR_CODES.internal, 'the control plane is shutting down; retry shortly');
      return;
    }
    if (path !== CHANNEL_PATH && !isStreamUpgrade(req)) {
      refuseUpgrade(
        socket,
        400,
        API_ERROR_CODES.badRequest,
        `data streams upgrade to ${RELAY_UPGRADE_PROTOCOL}; this client is too old or too new for this control plane`,
      );
      return;
    }
    let handler: Promise<void>;
    if (path === CHANNEL_PATH) handler = upgradeGatewayChannel(req, socket, head);
    else if (path === USER_PATH) handler = upgradeUserStream(req, socket as Socket, head);
    else handler = upgradeGatewayStream(req, socket as Socket, head, safeDecode(path.slice(STREAM_PREFIX.length)));
    // Errors before the upgrade completes (the peer hung up while we checked its credential) are not ours to report.
    const ignore = () => {};
    socket.on('error', ignore);
    upgrading.add(socket);
    handler
      .catch((error) => {
        log('error', 'an upgrade failed', { path, error: error instanceof Error ? error.message : String(error) });
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

  async function upgradeGatewayChannel(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const identity = await authenticateGateway(req, socket);
    if (!identity) return;
    if (socket.destroyed || closing) {
      socket.destroy();
      return;
    }
    const ws = await new Promise<WebSocket>((resolve) => channelServer.handleUpgrade(req, socket, head, resolve));
    hub.accept(ws, identity);
  }

  async function upgradeGatewayStream(req: IncomingMessage, socket: Socket, head: Buffer, streamId: string): Promise<void> {
    socket.pause();
    const identity = await authenticateGateway(req, socket);
    if (!identity) return;
    const stream = streams.get(streamId);
    if (!stream || stream.pipe || stream.closed || stream.gatewayId !== identity.gatewayId) {
      refuseUpgrade(
        socket,
        404,
        API_ERROR_CODES.notFound,
        `no stream ${streamId} is waiting for this gateway (it timed out or the client left)`,
      );
      return;
    }
    if (socket.destroyed) return; // the gateway gave up; the user's stream waits for its timeout or stream.failed
    pair(stream, { socket, head });
  }

  async function upgradeUserStream(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    // Not read until paired: what the client sends early stays in the kernel, which pushes back on it.
    socket.pause();
    const ticket = authorizationValue(req, 'Ticket');
    const sessionId = headerValue(req, RELAY_SESSION_HEADER);
    const grant: RelayTicketGrant | null = ticket && sessionId ? await deps.verifyRelayTicket(ticket, sessionId) : null;
    if (!grant || grant.sessionId !== sessionId) {
      countRefusal(API_ERROR_CODES.unauthenticated);
      refuseUpgrade(socket, 401, API_ERROR_CODES.unauthenticated, 'the relay ticket is missing, expired, or not for this session');
      return;
    }
    if (socket.destroyed || closing) {
      socket.destroy();
      return;
    }
    const stream: Stream = {
      streamId: `str_${randomBytes(12).toString('base64url')}`,
      sessionId,
      gatewayId: grant.gatewayId,
      user: { socket, head },
      lastTotal: 0,
      closed: false,
    };
    streams.set(stream.streamId, stream);
    const set = bySession.get(sessionId) ?? new Set<Stream>();
    bySession.set(sessionId, set);
    set.add(stream);
    // A client that leaves while waiting frees its stream (a reset shows at once; a FIN only once the socket is read).
    socket.on('error', () => {});
    socket.once('close', () => {
      if (!stream.pipe) closeStream(stream);
    });

    if (options.localGateways?.has(stream.gatewayId)) {
      serveLocally(stream, options.localGateways);
      return;
    }
    if (!hub.canOpenStreams(stream.gatewayId) && !(await channelArrives(stream.gatewayId))) {
      closeStream(stream, unavailable('the gateway serving this database is offline'));
      return;
    }
    if (stream.closed) return; // the client left while it waited
    if (!hub.sendStreamOpen(stream.gatewayId, { type: 'stream.open', streamId: stream.streamId, sessionId })) {
      closeStream(stream, unavailable('the gateway serving this database is offline'));
      return;
    }
    stream.timer = setTimeout(
      () => closeStream(stream, unavailable('the gateway did not pick up the connection in time')),
      streamOpenTimeoutMs,
    );
  }

  /**
   * With several replicas, a gateway keeps a channel to each: one missing here while another replica heard from the
   * gateway recently is on its way (this replica just started or restarted). Waits for it, briefly.
   */
  async function channelArrives(gatewayId: string): Promise<boolean> {
    if (!deps.isGatewayRecentlySeen) return false;
    let seen = false;
    try {
      seen = await deps.isGatewayRecentlySeen(gatewayId);
    } catch (error) {
      log('error', 'checking whether the gateway is online failed', { gatewayId, error: String(error) });
    }
    return seen && hub.waitForStreamChannel(gatewayId, channelWaitMs);
  }

  function pair(stream: Stream, gateway: Side): void {
    clearTimeout(stream.timer);
    const user = stream.user;
    // Both answers and any early bytes go out before the pipes start, so nothing overtakes them.
    user.socket.write(STREAM_SWITCHING_PROTOCOLS);
    gateway.socket.write(STREAM_SWITCHING_PROTOCOLS);
    if (user.head.length > 0) gateway.socket.write(user.head);
    if (gateway.head.length > 0) user.socket.write(gateway.head);
    user.head = Buffer.alloc(0);
    stream.pipe = pipeStreams(user.socket, gateway.socket, () => closeStream(stream));
    call(() => deps.connectionOpened(stream.sessionId), 'recording a connection opened');
  }

  function serveLocally(stream: Stream, local: LocalGateways): void {
    const { socket, head } = stream.user;
    socket.write(STREAM_SWITCHING_PROTOCOLS);
    // Early bytes go back in front of the (still paused) socket; the engine resumes it once the database is ready.
    if (head.length > 0) socket.unshift(head);
    stream.user.head = Buffer.alloc(0);
    stream.local = true;
    stream.pipe = handOverStream(socket, () => closeStream(stream));
    call(() => deps.connectionOpened(stream.sessionId), 'recording a connection opened');
    try {
      local.serve(stream.gatewayId, stream.streamId, stream.sessionId, socket);
    } catch (error) {
      log('error', 'the in-process gateway could not take a stream', {
        gatewayId: stream.gatewayId,
        sessionId: stream.sessionId,
        error: error instanceof Error ? error.message : String(error),
      });
      closeStream(stream, unavailable('the gateway could not open the connection'));
    }
  }

  /**
   * Forgets the stream and closes it: a pending one is refused with `refusal` (or just cut), a paired one is cut
   * when `refusal` is given (the session ended, the gateway went away) and otherwise was closed by one of its sides.
   */
  // For the metrics: bytes of streams that closed (live ones are read from their sockets), and refusals by code.
  const closedBytes = { fromClients: 0, toClients: 0 };
  const refusals: Record<string, number> = {};
  function countRefusal(code: string): void {
    refusals[code] = (refusals[code] ?? 0) + 1;
  }

  function closeStream(stream: Stream, refusal?: Refusal): void {
    if (stream.closed) return;
    stream.closed = true;
    clearTimeout(stream.timer);
    streams.delete(stream.streamId);
    const set = bySession.get(stream.sessionId);
    set?.delete(stream);
    if (set?.size === 0) bySession.delete(stream.sessionId);
    if (stream.pipe) {
      closedBytes.fromClients += stream.user.socket.bytesRead;
      closedBytes.toClients += stream.user.socket.bytesWritten;
      if (refusal) stream.pipe.destroy();
      call(() => deps.connectionClosed(stream.sessionId), 'recording a connection closed');
    } else if (refusal) {
      countRefusal(refusal[1]);
      refuseUpgrade(stream.user.socket, ...refusal);
    } else {
      stream.user.socket.destroy();
    }
  }

  function endSession(sessionId: string, reason: SessionEndReason, gatewayId: string): void {
    for (const stream of [...(bySession.get(sessionId) ?? [])]) {
      closeStream(stream, [410, API_ERROR_CODES.sessionNotActive, `the session has ended (${reason})`]);
    }
    hub.send(gatewayId, { type: 'session.end', sessionId, reason });
  }

  function touchActiveSessions(): void {
    const active = new Set<string>();
    for (const stream of streams.values()) {
      if (!stream.pipe) continue;
      const total = stream.pipe.total();
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
      let local = 0;
      let { fromClients, toClients } = closedBytes;
      for (const stream of streams.values()) {
        if (stream.pipe) {
          fromClients += stream.user.socket.bytesRead;
          toClients += stream.user.socket.bytesWritten;
          paired++;
          if (stream.local) local++;
          bufferedBytes += stream.pipe.buffered();
        } else {
          bufferedBytes += stream.user.head.length + stream.user.socket.readableLength;
        }
      }
      return {
        gateways: hub.size,
        pendingStreams: streams.size - paired,
        pairedStreams: paired,
        localStreams: local,
        bufferedBytes,
        bytesFromClients: fromClients,
        bytesToClients: toClients,
        refusals: { ...refusals },
      };
    },
    async close() {
      if (closing) return;
      closing = true;
      server.off('upgrade', onUpgrade);
      unsubscribe();
      unsubscribeRevoked?.();
      unsubscribeRefresh?.();
      clearInterval(touchTimer);
      for (const socket of upgrading) socket.destroy();
      for (const stream of [...streams.values()])
        closeStream(stream, [503, API_ERROR_CODES.internal, 'the control plane is shutting down']);
      await hub.close();
      // Peers that do not answer the close handshake are cut after a second so that shutdown is bounded.
      const stragglers = [...channelServer.clients];
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
      channelServer.close();
    },
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
