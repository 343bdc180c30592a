/**
 * The gateways' control channels: one per gateway (a newer one replaces the older), hello/welcome, heartbeats,
 * credentials requests, log batches, and the offline grace period after which the gateway's sessions end.
 */
import WebSocket from 'ws';
import { GATEWAY_CHANNEL_CLOSE_CODES, type GatewayToServer, type LogBatch, type ServerToGateway } from '../../protocol/gateway-channel';
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
}

/** Largest log batch or message accepted on the channel. */
export const GATEWAY_CHANNEL_MAX_PAYLOAD = 32 * 1024 * 1024;

export class GatewayHub {
  private readonly channels = new Map<string, Channel>();
  private readonly offlineTimers = new Map<string, NodeJS.Timeout>();
  private readonly versions = new Map<string, string>();
  private readonly sweepTimer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly deps: RelayDeps,
    private readonly options: GatewayHubOptions,
    private readonly events: GatewayHubEvents,
  ) {
    this.sweepTimer = setInterval(() => this.closeSilentChannels(), options.heartbeatIntervalMs);
    this.sweepTimer.unref();
  }

  isConnected(gatewayId: string): boolean {
    return this.channels.get(gatewayId)?.helloReceived === true;
  }

  get size(): number {
    return this.channels.size;
  }

  /** Sends a message to the gateway's current channel; false when it has none. */
  send(gatewayId: string, message: ServerToGateway): boolean {
    const channel = this.channels.get(gatewayId);
    if (!channel || channel.ws.readyState !== WebSocket.OPEN) return false;
    channel.ws.send(JSON.stringify(message));
    return true;
  }

  /** Takes a freshly upgraded, authenticated control channel. */
  accept(ws: WebSocket, identity: GatewayIdentity): void {
    const { gatewayId } = identity;
    const previous = this.channels.get(gatewayId);
    const channel: Channel = { identity, ws, lastSeen: Date.now(), helloReceived: false };
    this.channels.set(gatewayId, channel);
    if (previous) previous.ws.close(GATEWAY_CHANNEL_CLOSE_CODES.replaced, 'a newer channel for this gateway connected');
    const timer = this.offlineTimers.get(gatewayId);
    if (timer) {
      clearTimeout(timer);
      this.offlineTimers.delete(gatewayId);
    }
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

  /** The gateway was deleted or its credential revoked: close its channel now; it cannot come back. */
  revoke(gatewayId: string): void {
    const channel = this.channels.get(gatewayId);
    if (channel) channel.ws.close(GATEWAY_CHANNEL_CLOSE_CODES.unauthorized, 'this gateway was removed by an admin');
  }

  /** Closes every channel (1001) and stops the timers; gateways are recorded as disconnected. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    for (const timer of this.offlineTimers.values()) clearTimeout(timer);
    this.offlineTimers.clear();
    const ids = [...this.channels.keys()];
    for (const channel of this.channels.values()) channel.ws.close(1001, 'the control plane is shutting down');
    this.channels.clear();
    const at = new Date();
    await Promise.all(ids.map((id) => this.call(() => this.deps.setGatewayConnected(id, false, at), 'recording a gateway offline', id)));
  }

  private async handle(channel: Channel, message: GatewayToServer): Promise<void> {
    const { gatewayId } = channel.identity;
    if (this.channels.get(gatewayId) !== channel) return; // replaced: ignore what the old channel still says
    if (typeof message !== 'object' || message === null || typeof message.type !== 'string') {
      channel.ws.close(GATEWAY_CHANNEL_CLOSE_CODES.protocolError, 'a control message had no type');
      return;
    }
    if (!channel.helloReceived && message.type !== 'hello') {
      channel.ws.close(GATEWAY_CHANNEL_CLOSE_CODES.protocolError, 'the first control message must be hello');
      return;
    }
    switch (message.type) {
      case 'hello':
        channel.helloReceived = true;
        this.send(gatewayId, {
          type: 'welcome',
          gatewayId,
          heartbeatIntervalMs: this.options.heartbeatIntervalMs,
          ...(this.deps.spoolKeyFor ? { spoolKey: this.deps.spoolKeyFor(gatewayId).toString('base64') } : {}),
        });
        if (typeof message.version === 'string') this.versions.set(gatewayId, message.version.slice(0, 100));
        await this.call(
          () => this.deps.setGatewayConnected(gatewayId, true, new Date(), this.versions.get(gatewayId)),
          'recording a gateway online',
          gatewayId,
        );
        this.log('info', `gateway connected (${message.name ?? 'unnamed'}, version ${message.version})`, gatewayId);
        return;
      case 'heartbeat':
        this.send(gatewayId, { type: 'heartbeat.ack', time: new Date().toISOString() });
        // The store judges "online" by last_seen within two intervals, so every heartbeat is written.
        await this.call(
          () => this.deps.setGatewayConnected(gatewayId, true, new Date(), this.versions.get(gatewayId)),
          'recording a heartbeat',
          gatewayId,
        );
        return;
      case 'credentials.request':
        await this.answerCredentials(gatewayId, message.requestId, message.sessionId);
        return;
      case 'logs':
        await this.storeLogs(gatewayId, message.batchId, message.batch);
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
      default:
        // Unknown types are ignored so that a newer gateway can talk to an older control plane.
        return;
    }
  }

  private async answerCredentials(gatewayId: string, requestId: string, sessionId: string): Promise<void> {
    if (typeof requestId !== 'string' || typeof sessionId !== 'string') return;
    let answer: Awaited<ReturnType<RelayDeps['getSessionTarget']>>;
    try {
      answer = await this.deps.getSessionTarget(sessionId, gatewayId);
    } catch (error) {
      this.log('error', 'looking up session credentials failed', gatewayId, error);
      answer = { denied: 'the control plane could not load the session credentials; try again' };
    }
    if ('denied' in answer) {
      this.send(gatewayId, { type: 'credentials.denied', requestId, sessionId, message: answer.denied });
      return;
    }
    const expiresAt = answer.expiresAt instanceof Date ? answer.expiresAt.toISOString() : answer.expiresAt;
    this.send(gatewayId, { type: 'credentials', requestId, sessionId, target: answer.target, expiresAt });
  }

  private async storeLogs(gatewayId: string, batchId: string, batch: LogBatch): Promise<void> {
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
    this.send(gatewayId, { type: 'logs.ack', batchId });
  }

  private onChannelClosed(channel: Channel): void {
    const { gatewayId } = channel.identity;
    if (this.closed || this.channels.get(gatewayId) !== channel) return;
    this.channels.delete(gatewayId);
    this.log('info', 'gateway disconnected', gatewayId);
    this.call(() => this.deps.setGatewayConnected(gatewayId, false, new Date()), 'recording a gateway offline', gatewayId);
    this.events.onDisconnected(gatewayId);
    this.startOfflineTimer(gatewayId);
  }

  /**
   * After a control plane (re)start: these gateways had active sessions, and their channels died with the old
   * process. Each gets the same grace period as a gateway that just disconnected; one that does not come back
   * in time has its sessions ended with gateway_offline, as it would have without the restart.
   */
  expectBack(gatewayIds: Iterable<string>): void {
    for (const gatewayId of gatewayIds) {
      if (!this.closed && !this.channels.has(gatewayId) && !this.offlineTimers.has(gatewayId)) this.startOfflineTimer(gatewayId);
    }
  }

  private startOfflineTimer(gatewayId: string): void {
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
    for (const channel of this.channels.values()) {
      if (channel.lastSeen < limit) {
        channel.ws.close(GATEWAY_CHANNEL_CLOSE_CODES.heartbeatMissed, closeReason('no heartbeat within three intervals'));
        // A dead peer never completes the closing handshake; do not wait for it.
        setTimeout(() => channel.ws.terminate(), 1000).unref();
      }
    }
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
