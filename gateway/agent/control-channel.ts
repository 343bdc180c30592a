/**
 * The gateway's one outbound control WebSocket: hello on connect, heartbeats at the interval the control plane
 * names in `welcome`, and reconnection with exponential backoff and jitter whenever it drops (a control plane
 * restart, a network cut, three heartbeat intervals without an answer).
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { API_PREFIX } from '../../protocol/api';
import {
  GATEWAY_CHANNEL_CLOSE_CODES,
  GATEWAY_CHANNEL_PATH,
  type GatewayToServer,
  type ServerToGateway,
} from '../../protocol/gateway-channel';

export type ChannelStatus = 'connecting' | 'online' | 'offline';

export interface ReconnectOptions {
  initialMs: number;
  maxMs: number;
}

export interface ControlChannelOptions {
  /** Base address of the control plane (http(s)://host[:port][/prefix]). */
  server: string;
  credential: string;
  /** PEM of a private CA that issued the control plane's certificate (instead of the system's roots). */
  ca?: string;
  name?: string;
  version: string;
  /** This gateway process run, told in hello: the control plane keeps its channels to one replica side by side. */
  instance?: string;
  /** The replica this channel is meant for (told in hello); absent for the starting address. */
  replicaId?: string;
  /** The gateway's tunnel certificate (PEM), told in hello: clients accept only this gateway at the end of a stream. */
  tunnelCertificate?: string;
  reconnect?: ReconnectOptions;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface ControlChannelEvents {
  status: [ChannelStatus];
  welcome: [Extract<ServerToGateway, { type: 'welcome' }>];
  message: [ServerToGateway];
  /** The control plane refused the credential (HTTP 401). The channel keeps retrying, slowly. */
  rejected: [string];
}

/** ws(s)://… for a path under the API, from the control plane's http(s) address. */
export function webSocketUrl(server: string, path: string): string {
  const url = new URL(server);
  url.protocol = url.protocol === 'https:' ? 'wss:' : url.protocol === 'http:' ? 'ws:' : url.protocol;
  let base = url.pathname.replace(/\/+$/, '');
  if (base.endsWith(API_PREFIX)) base = base.slice(0, -API_PREFIX.length);
  url.pathname = `${base}${API_PREFIX}${path}`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

export class ControlChannel extends EventEmitter<ControlChannelEvents> {
  private ws: WebSocket | undefined;
  private currentStatus: ChannelStatus = 'offline';
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private stopped = false;
  private readonly reconnect: ReconnectOptions;
  private readonly url: string;

  constructor(private readonly options: ControlChannelOptions) {
    super();
    this.reconnect = options.reconnect ?? { initialMs: 500, maxMs: 15_000 };
    this.url = webSocketUrl(options.server, GATEWAY_CHANNEL_PATH);
  }

  get status(): ChannelStatus {
    return this.currentStatus;
  }

  /** The control plane address this channel connects to. */
  get server(): string {
    return this.options.server;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Sends a message when the channel is up; false otherwise (the caller decides whether to keep it). */
  send(message: GatewayToServer): boolean {
    if (this.currentStatus !== 'online' || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeatTimer);
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.close(1000, 'the gateway is stopping');
      setTimeout(() => ws.terminate(), 1000).unref();
    }
    this.setStatus('offline');
  }

  private connect(): void {
    if (this.stopped) return;
    this.setStatus('connecting');
    const ws = new WebSocket(this.url, {
      headers: { authorization: `Bearer ${this.options.credential}` },
      ...(this.options.ca ? { ca: this.options.ca } : {}),
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
    });
    this.ws = ws;
    let rejected = false;
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        if (body.length < 2000) body += chunk.toString();
      });
      res.on('end', () => {
        const message = parseErrorMessage(body) ?? `HTTP ${res.statusCode}`;
        if (res.statusCode === 401) {
          rejected = true;
          this.emit('rejected', `the control plane refused this gateway's credential: ${message}`);
        } else {
          this.options.log('warn', `the control plane refused the control channel: ${message}`);
        }
        ws.terminate();
      });
    });
    ws.on('open', () => {
      this.lastHeard = Date.now();
      const { version, name, instance, replicaId, tunnelCertificate } = this.options;
      ws.send(JSON.stringify({ type: 'hello', version, name, instance, replicaId, tunnelCertificate } satisfies GatewayToServer));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.lastHeard = Date.now();
      if (isBinary) return;
      let message: ServerToGateway;
      try {
        message = JSON.parse(data.toString('utf8'));
      } catch {
        this.options.log('warn', 'ignored a control message that was not JSON');
        return;
      }
      if (message.type === 'welcome') {
        this.attempt = 0;
        this.startHeartbeats(ws, message.heartbeatIntervalMs);
        this.setStatus('online');
        this.emit('welcome', message);
        return;
      }
      this.emit('message', message);
    });
    ws.on('error', (error) => {
      if (!rejected) this.options.log('warn', `control channel: ${error.message}`);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      clearInterval(this.heartbeatTimer);
      if (this.stopped) return;
      this.setStatus('offline');
      let delay = this.nextDelay();
      if (rejected || code === GATEWAY_CHANNEL_CLOSE_CODES.replaced) {
        // Retrying fast would not help: wait the longest backoff (another gateway may be using this credential).
        delay = this.reconnect.maxMs;
        if (code === GATEWAY_CHANNEL_CLOSE_CODES.replaced) {
          this.options.log('warn', 'another gateway process connected with the same credential and replaced this one');
        }
      } else if (code !== 1006) {
        this.options.log('info', `control channel closed (${code}${reason.length ? `: ${reason}` : ''}); reconnecting`);
      }
      this.retryTimer = setTimeout(() => this.connect(), delay);
    });
  }

  private startHeartbeats(ws: WebSocket, intervalMs: number): void {
    clearInterval(this.heartbeatTimer);
    const interval = Math.max(100, Number(intervalMs) || 10_000);
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > 3 * interval) {
        this.options.log('warn', 'no answer from the control plane for three heartbeat intervals; reconnecting');
        ws.terminate();
        return;
      }
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'heartbeat', time: new Date().toISOString() }));
    }, interval);
    this.heartbeatTimer.unref();
  }

  /** Exponential backoff with full jitter between half and all of the step. */
  private nextDelay(): number {
    const step = Math.min(this.reconnect.maxMs, this.reconnect.initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(step / 2 + (Math.random() * step) / 2);
  }

  private setStatus(status: ChannelStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    this.emit('status', status);
  }
}

function parseErrorMessage(body: string): string | undefined {
  try {
    const message = JSON.parse(body)?.error?.message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}
