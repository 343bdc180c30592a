/**
 * The gateways' control channels on this replica: hello/welcome (with the live replicas), heartbeats, credentials
 * requests, log batches, and the offline grace period after which the gateway's sessions end.
 *
 * A gateway process keeps one channel to each replica, and may hold two to this one (its starting address, often a
 * load balancer, landed here, and its channel meant for this replica): channels of one gateway process (`instance`
 * in hello) live side by side; a channel of another process of the same gateway replaces them.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { ConnectionTestDto } from '../../protocol/api';
import { GATEWAY_CHANNEL_CLOSE_CODES, type GatewayToServer, type LogBatch, type ServerToGateway } from '../../protocol/gateway-channel';
import type { MongoTarget } from '../../protocol/target';
import type { GatewayIdentity, RelayDeps } from './deps';
import { closeReason } from './upgrade-request';

export interface GatewayHubOptions {
  heartbeatIntervalMs: number;
  /** How long a gateway may be away before its active sessions end with gateway_offline. */
  offlineGraceMs: number;
}

export interface GatewayHubEvents {
  /** The gateway's channel closed (the hub already marked it disconnected). */
  onDisconnected(gatewayId: string): void;
  /** The gateway says it could not open a stream. */
  onStreamFailed(gatewayId: string, streamId: string, message: string): void;
}

interface Channel {
  identity: GatewayIdentity;
  ws: WebSocket;
  lastSeen: number;
  helloReceived: boolean;
  /** The gateway process run (hello); undefined for gateways that do not say. */
  instance?: string;
  /** The gateway meant to reach this replica (hello), rather than its starting address, which may be any replica. */
  direct: boolean;
}

/** Largest log batch or message accepted on the channel. */
export const GATEWAY_CHANNEL_MAX_PAYLOAD = 32 * 1024 * 1024;

export class GatewayHub {
  /** Per gateway, its channels that said hello. */
  private readonly channels = new Map<string, Set<Channel>>();
  /** Channels upgraded but not yet through hello. */
  private readonly arriving = new Set<Channel>();
  private readonly offlineTimers = new Map<string, NodeJS.Timeout>();
  private readonly versions = new Map<string, string>();
  private readonly silenceTimer: NodeJS.Timeout;
  private readonly offlineSweepTimer: NodeJS.Timeout | undefined;
  /** 'ready' (gatewayId): a channel that can carry stream.open said hello. */
  private readonly readiness = new EventEmitter();
  private readonly unsubscribeReplicas: (() => void) | undefined;
  /** Connection tests waiting for their gateway's answer, by test id. */
  private readonly tests = new Map<string, { gatewayId: string; done(result: ConnectionTestDto): void }>();
  private closed = false;

  constructor(
    private readonly deps: RelayDeps,
    private readonly options: GatewayHubOptions,
    private readonly events: GatewayHubEvents,
  ) {
    this.readiness.setMaxListeners(0);
    this.silenceTimer = setInterval(() => this.closeSilentChannels(), options.heartbeatIntervalMs);
    this.silenceTimer.unref();
    if (deps.sweepOfflineGateways) {
      // Decided from the database (last_seen_at, renewed by every replica's heartbeats), so a replica that just
      // started, or that never had the gateway's channel, judges like the others.
      const every = Math.max(50, Math.min(options.heartbeatIntervalMs, Math.floor(options.offlineGraceMs / 4)));
      this.offlineSweepTimer = setInterval(() => {
        this.call(() => deps.sweepOfflineGateways?.(options.offlineGraceMs), 'sweeping offline gateways', '');
      }, every);
      this.offlineSweepTimer.unref();
    }
    this.unsubscribeReplicas = deps.replicas?.onChange((replicas) => this.broadcast({ type: 'replicas', replicas }));
  }

  isConnected(gatewayId: string): boolean {
    return (this.channels.get(gatewayId)?.size ?? 0) > 0;
  }

  get size(): number {
    return this.channels.size;
  }

  /** Sends a message on one of the gateway's channels (a direct one when there is one); false when it has none. */
  send(gatewayId: string, message: ServerToGateway): boolean {
    const channel = this.pick(gatewayId, false);
    if (!channel) return false;
    channel.ws.send(JSON.stringify(message));
    return true;
  }

  /**
   * Asks the gateway to reach `target` (and sign in, when it names a user) and answer: an admin's Test Connection.
   * Null when the gateway has no channel to this replica. A gateway that does not answer in time (an older gateway
   * ignores the message) gives a `gateway` stage failure.
   */
  testConnection(gatewayId: string, target: MongoTarget, timeoutMs = 30_000): Promise<ConnectionTestDto> | null {
    const testId = randomUUID();
    if (!this.send(gatewayId, { type: 'connection.test', testId, target })) return null;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.tests.delete(testId);
        resolve({
          ok: false,
          stage: 'gateway',
          message: `the gateway did not answer within ${Math.round(timeoutMs / 1000)} s (an older gateway cannot test connections: update it)`,
          durationMs: timeoutMs,
        });
      }, timeoutMs);
      this.tests.set(testId, {
        gatewayId,
        done: (result) => {
          clearTimeout(timer);
          this.tests.delete(testId);
          resolve(result);
        },
      });
    });
  }

  /**
   * Sends `stream.open` on a channel the gateway will answer at this replica: the gateway opens the data stream at
   * the address of the channel that carried it, so a channel to the starting address only does when this is the
   * only live replica (a balancer in front of one replica reaches this one). False when there is none yet.
   */
  sendStreamOpen(gatewayId: string, message: Extract<ServerToGateway, { type: 'stream.open' }>): boolean {
    const channel = this.pick(gatewayId, true);
    if (!channel) return false;
    channel.ws.send(JSON.stringify(message));
    return true;
  }

  canOpenStreams(gatewayId: string): boolean {
    return this.pick(gatewayId, true) !== undefined;
  }

  /** Resolves true as soon as the gateway has a channel that can carry stream.open, false after `timeoutMs`. */
  waitForStreamChannel(gatewayId: string, timeoutMs: number): Promise<boolean> {
    if (this.canOpenStreams(gatewayId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onReady = (id: string) => {
        if (id !== gatewayId || !this.canOpenStreams(gatewayId)) return;
        clearTimeout(timer);
        this.readiness.off('ready', onReady);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.readiness.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      this.readiness.on('ready', onReady);
    });
  }

  private pick(gatewayId: string, forStream: boolean): Channel | undefined {
    const set = this.channels.get(gatewayId);
    if (!set) return undefined;
    const open = [...set].filter((c) => c.ws.readyState === WebSocket.OPEN);
    const direct = open.filter((c) => c.direct);
    if (direct.length > 0) return direct[direct.length - 1];
    if (forStream && (this.deps.replicas?.live().length ?? 1) > 1) return undefined;
    return open[open.length - 1];
  }

  private broadcast(message: ServerToGateway): void {
    const text = JSON.stringify(message);
    for (const set of this.channels.values()) {
      for (const channel of set) if (channel.ws.readyState === WebSocket.OPEN) channel.ws.send(text);
    }
  }

  /** Takes a freshly upgraded, authenticated control channel; it counts once it has said hello. */
  accept(ws: WebSocket, identity: GatewayIdentity): void {
    const { gatewayId } = identity;
    const channel: Channel = { identity, ws, lastSeen: Date.now(), helloReceived: false, direct: false };
    this.arriving.add(channel);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      channel.lastSeen = Date.now();
      if (isBinary) {
        ws.close(GATEWAY_CHANNEL_CLOSE_CODES.protocolError, 'the control channel carries JSON text messages only');
        return;
      }
      let message: GatewayToServer;
      try {
        message = JSON.parse(data.toString('utf8'));
      } catch {
        ws.close(GATEWAY_CHANNEL_CLOSE_CODES.protocolError, 'a control message was not valid JSON');
        return;
      }
      this.handle(channel, message).catch((error) => this.log('error', 'handling a gateway message failed', gatewayId, error));
    });
    ws.on('close', () => this.onChannelClosed(channel));
    ws.on('error', (error) => this.log('warn', 'gateway channel error', gatewayId, error));
  }

  /** The gateway was deleted or its credential revoked: close its channels now; it cannot come back. */
  revoke(gatewayId: string): void {
    for (const channel of [...(this.channels.get(gatewayId) ?? []), ...this.arriving]) {
      if (channel.identity.gatewayId === gatewayId) {
        channel.ws.close(GATEWAY_CHANNEL_CLOSE_CODES.unauthorized, 'this gateway was removed by an admin');
      }
    }
  }

  /** Closes every channel (1001) and stops the timers; gateways are recorded as disconnected. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.silenceTimer);
    clearInterval(this.offlineSweepTimer);
    this.unsubscribeReplicas?.();
    for (const timer of this.offlineTimers.values()) clearTimeout(timer);
    this.offlineTimers.clear();
    const ids = this.othersMayHaveIt() ? [] : [...this.channels.keys()];
    for (const channel of this.allChannels()) channel.ws.close(1001, 'the control plane is shutting down');
    this.channels.clear();
    this.arriving.clear();
    const at = new Date();
    await Promise.all(ids.map((id) => this.call(() => this.deps.setGatewayConnected(id, false, at), 'recording a gateway offline', id)));
  }

  private async handle(channel: Channel, message: GatewayToServer): Promise<void> {
    const { gatewayId } = channel.identity;
    // Replaced or closed: ignore what the old channel still says.
    if (!this.arriving.has(channel) && !this.channels.get(gatewayId)?.has(channel)) return;
    if (typeof message !== 'object' || message === null || typeof message.type !== 'string') {
      channel.ws.close(GATEWAY_CHANNEL_CLOSE_CODES.protocolError, 'a control message had no type');
      return;
    }
    if (!channel.helloReceived && message.type !== 'hello') {
      channel.ws.close(GATEWAY_CHANNEL_CLOSE_CODES.protocolError, 'the first control message must be hello');
      return;
    }
    switch (message.type) {
      case 'hello': {
        if (channel.helloReceived) return;
        this.join(channel, message);
        // Before the welcome (the gateway is online from then on): sessions started after it are vouched this certificate.
        if (typeof message.tunnelCertificate === 'string' && this.deps.recordTunnelCertificate) {
          const certificate = message.tunnelCertificate.slice(0, 16_384);
          await this.call(
            () => this.deps.recordTunnelCertificate?.(gatewayId, certificate),
            "recording the gateway's tunnel certificate",
            gatewayId,
          );
        }
        if (channel.ws.readyState !== WebSocket.OPEN) return;
        const replicas = this.deps.replicas;
        channel.ws.send(
          JSON.stringify({
            type: 'welcome',
            gatewayId,
            heartbeatIntervalMs: this.options.heartbeatIntervalMs,
            ...(this.deps.spoolKeyFor ? { spoolKey: this.deps.spoolKeyFor(gatewayId).toString('base64') } : {}),
            ...(replicas ? { replicaId: replicas.id, replicas: replicas.live() } : {}),
          } satisfies ServerToGateway),
        );
        this.readiness.emit('ready', gatewayId);
        if (typeof message.version === 'string') this.versions.set(gatewayId, message.version.slice(0, 100));
        await this.call(
          () => this.deps.setGatewayConnected(gatewayId, true, new Date(), this.versions.get(gatewayId)),
          'recording a gateway online',
          gatewayId,
        );
        this.log('info', `gateway connected (${message.name ?? 'unnamed'}, version ${message.version})`, gatewayId);
        return;
      }
      case 'heartbeat':
        channel.ws.send(JSON.stringify({ type: 'heartbeat.ack', time: new Date().toISOString() } satisfies ServerToGateway));
        // The store judges "online" by last_seen within two intervals, so every heartbeat is written.
        await this.call(
          () => this.deps.setGatewayConnected(gatewayId, true, new Date(), this.versions.get(gatewayId)),
          'recording a heartbeat',
          gatewayId,
        );
        return;
      case 'credentials.request':
        await this.answerCredentials(channel, message.requestId, message.sessionId);
        return;
      case 'logs':
        await this.storeLogs(channel, message.batchId, message.batch);
        return;
      case 'stream.failed':
        this.events.onStreamFailed(gatewayId, String(message.streamId), String(message.message ?? 'the gateway could not open the stream'));
        return;
      case 'session.stats':
        if (this.deps.recordSessionStats && typeof message.sessionId === 'string') {
          const stats = { connections: Number(message.connections) || 0, commands: Number(message.commands) || 0 };
          await this.call(() => this.deps.recordSessionStats?.(message.sessionId, gatewayId, stats), 'recording session stats', gatewayId);
        }
        return;
      case 'connection.test.result': {
        // Only the gateway that was asked may answer.
        const test = this.tests.get(String(message.testId));
        if (test?.gatewayId === gatewayId && typeof message.result === 'object' && message.result !== null) test.done(message.result);
        return;
      }
      default:
        // Unknown types are ignored so that a newer gateway can talk to an older control plane.
        return;
    }
  }

  /** Answers on the channel that asked: the gateway waits for the answer there. */
  private async answerCredentials(channel: Channel, requestId: string, sessionId: string): Promise<void> {
    const { gatewayId } = channel.identity;
    const reply = (message: ServerToGateway) => {
      if (channel.ws.readyState === WebSocket.OPEN) channel.ws.send(JSON.stringify(message));
    };
    if (typeof requestId !== 'string' || typeof sessionId !== 'string') return;
    let answer: Awaited<ReturnType<RelayDeps['getSessionTarget']>>;
    try {
      answer = await this.deps.getSessionTarget(sessionId, gatewayId);
    } catch (error) {
      this.log('error', 'looking up session credentials failed', gatewayId, error);
      answer = { denied: 'the control plane could not load the session credentials; try again' };
    }
    if ('denied' in answer) {
      reply({ type: 'credentials.denied', requestId, sessionId, message: answer.denied });
      return;
    }
    const expiresAt = answer.expiresAt instanceof Date ? answer.expiresAt.toISOString() : answer.expiresAt;
    reply({
      type: 'credentials',
      requestId,
      sessionId,
      target: answer.target,
      expiresAt,
      ...(answer.tunnel ? { tunnel: answer.tunnel } : {}),
    });
  }

  private async storeLogs(channel: Channel, batchId: string, batch: LogBatch): Promise<void> {
    const { gatewayId } = channel.identity;
    if (
      typeof batchId !== 'string' ||
      typeof batch !== 'object' ||
      batch === null ||
      typeof batch.sessionId !== 'string' ||
      typeof batch.origin !== 'string' ||
      !Array.isArray(batch.events)
    ) {
      this.log('warn', 'dropped a malformed log batch', gatewayId);
      return;
    }
    try {
      await this.deps.appendLogBatch(batch, gatewayId);
    } catch (error) {
      // Not acknowledged: the gateway keeps the batch and sends it again.
      this.log('error', `storing log batch ${batchId} failed; the gateway will resend it`, gatewayId, error);
      return;
    }
    if (channel.ws.readyState === WebSocket.OPEN) channel.ws.send(JSON.stringify({ type: 'logs.ack', batchId } satisfies ServerToGateway));
  }

  /** A channel said hello: it joins its gateway's channels, replacing those of another process of that gateway. */
  private join(channel: Channel, hello: Extract<GatewayToServer, { type: 'hello' }>): void {
    const { gatewayId } = channel.identity;
    channel.helloReceived = true;
    channel.instance = typeof hello.instance === 'string' ? hello.instance.slice(0, 100) : undefined;
    channel.direct = typeof hello.replicaId === 'string' && hello.replicaId === this.deps.replicas?.id;
    this.arriving.delete(channel);
    const set = this.channels.get(gatewayId) ?? new Set<Channel>();
    for (const other of [...set]) {
      // A gateway that does not name its process has one channel, as before replicas.
      if (channel.instance === undefined || other.instance !== channel.instance) {
        set.delete(other);
        other.ws.close(GATEWAY_CHANNEL_CLOSE_CODES.replaced, 'a newer channel for this gateway connected');
      }
    }
    set.add(channel);
    this.channels.set(gatewayId, set);
    const timer = this.offlineTimers.get(gatewayId);
    if (timer) {
      clearTimeout(timer);
      this.offlineTimers.delete(gatewayId);
    }
  }

  private *allChannels(): Iterable<Channel> {
    yield* this.arriving;
    for (const set of this.channels.values()) yield* set;
  }

  private onChannelClosed(channel: Channel): void {
    const { gatewayId } = channel.identity;
    this.arriving.delete(channel);
    const set = this.channels.get(gatewayId);
    if (this.closed || !set?.delete(channel)) return;
    if (set.size > 0) return; // its other channels to this replica carry on
    this.channels.delete(gatewayId);
    this.log('info', 'gateway disconnected', gatewayId);
    if (!this.othersMayHaveIt()) {
      this.call(() => this.deps.setGatewayConnected(gatewayId, false, new Date()), 'recording a gateway offline', gatewayId);
    }
    this.events.onDisconnected(gatewayId);
    this.startOfflineTimer(gatewayId);
  }

  /**
   * After a control plane (re)start: these gateways had active sessions, and their channels died with the old
   * process. Each gets the same grace period as a gateway that just disconnected; one that does not come back
   * in time has its sessions ended with gateway_offline, as it would have without the restart.
   */
  expectBack(gatewayIds: Iterable<string>): void {
    if (this.deps.sweepOfflineGateways) return; // the database decides; nothing local to arm
    for (const gatewayId of gatewayIds) {
      if (!this.closed && !this.channels.has(gatewayId) && !this.offlineTimers.has(gatewayId)) this.startOfflineTimer(gatewayId);
    }
  }

  private startOfflineTimer(gatewayId: string): void {
    if (this.deps.sweepOfflineGateways) return; // the database decides (see the constructor)
    const timer = setTimeout(() => {
      this.offlineTimers.delete(gatewayId);
      if (this.channels.has(gatewayId)) return;
      this.log('warn', `gateway stayed offline for ${this.options.offlineGraceMs} ms; ending its sessions`, gatewayId);
      this.call(() => this.deps.gatewayWentOffline(gatewayId), 'ending an offline gateway’s sessions', gatewayId);
    }, this.options.offlineGraceMs);
    timer.unref();
    this.offlineTimers.set(gatewayId, timer);
  }

  /** A gateway that has sent nothing for three heartbeat intervals is treated as gone. */
  private closeSilentChannels(): void {
    const limit = Date.now() - 3 * this.options.heartbeatIntervalMs;
    for (const channel of this.allChannels()) {
      if (channel.lastSeen < limit) {
        channel.ws.close(GATEWAY_CHANNEL_CLOSE_CODES.heartbeatMissed, closeReason('no heartbeat within three intervals'));
        // A dead peer never completes the closing handshake; do not wait for it.
        setTimeout(() => channel.ws.terminate(), 1000).unref();
      }
    }
  }

  /**
   * With other replicas live, the gateway keeps a channel to each of them: losing the one here does not make it
   * offline, and only the database knows whether it is (its last_seen_at, which their heartbeats renew, goes stale
   * within two intervals). Alone, this replica knows, and records it at once.
   */
  private othersMayHaveIt(): boolean {
    return (this.deps.replicas?.live().length ?? 1) > 1;
  }

  private async call(fn: () => unknown, what: string, gatewayId: string): Promise<void> {
    try {
      await fn();
    } catch (error) {
      this.log('error', `${what} failed`, gatewayId, error);
    }
  }

  private log(level: 'info' | 'warn' | 'error', message: string, gatewayId: string, error?: unknown): void {
    this.deps.log?.(level, message, { gatewayId, ...(error ? { error: error instanceof Error ? error.message : String(error) } : {}) });
  }
}
