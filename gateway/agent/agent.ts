/**
 * startGatewayAgent: the gateway process. It keeps the control channel (control-channel.ts), and for each
 * `stream.open` gets the session's credentials (from memory, or once over the channel), opens the data stream
 * and serves it with the engine. Log events are numbered and uploaded until acknowledged (log-uploader.ts).
 */

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { ServerToGateway, SessionTunnelPins } from '../../protocol/gateway-channel';
import type { SessionLogEvent } from '../../protocol/session-log';
import type { MongoTarget } from '../../protocol/target';
import { createGatewayIdentity, type PemKeyPair } from '../../tunnel/certificates';
import { certificateFingerprint } from '../../tunnel/fingerprint';
import { acceptTunnel, type TunnelAcceptor } from '../../tunnel/tls';
import { DEFAULT_GATEWAY_LIMITS, type GatewayLimits, PendingBytesBudget } from '../engine/limits';
import { serveClient } from '../engine/serve-client';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { testConnection } from '../upstream/test-connection';
import type { ChannelStatus, ReconnectOptions } from './control-channel';
import { openDataStream } from './data-stream';
import { LogSpool, SpoolWriteError } from './log-spool';
import { LogUploader } from './log-uploader';
import { type ChannelOrigin, ReplicaChannels } from './replica-channels';
import { type LiveConnection, SessionTable } from './session-table';

export const GATEWAY_AGENT_VERSION = '0.1.0';

type ServeOptions = Parameters<typeof serveClient>[1];

/** What a log line is about, beyond its message (the session, when there is one: see protocol/log-line.ts). */
export interface GatewayLogFields {
  sessionId?: string;
}

export interface GatewayLogger {
  info(message: string, fields?: GatewayLogFields): void;
  warn(message: string, fields?: GatewayLogFields): void;
  error(message: string, fields?: GatewayLogFields): void;
}

export interface GatewayAgentOptions {
  /** The starting address: the control plane, or a load balancer in front of its replicas (see replica-channels.ts). */
  server: string;
  credential: string;
  /** PEM of a private CA that issued the control plane's certificate (instead of the system's roots). */
  ca?: string;
  name?: string;
  /**
   * The gateway's tunnel key and certificate (end-to-end encryption: every client stream is TLS inside the relay,
   * with this gateway as the server). `portcullis gateway start` keeps them in the credential file; without them
   * the agent makes a pair for this process run (announced in hello, so sessions started after it pin it).
   */
  tunnelIdentity?: PemKeyPair;
  maskPatterns?: RegExp[];
  resolver?: ServeOptions['resolver'];
  logger?: GatewayLogger;
  reconnect?: ReconnectOptions;
  /** Log batching; defaults 250 ms / 200 events / 50,000 buffered events (see log-uploader.ts). */
  logs?: { flushIntervalMs?: number; maxBatchEvents?: number; maxBufferedEvents?: number };
  /** How often changed session counters are sent. Default 5 s. */
  statsIntervalMs?: number;
  /** How long to wait for the control plane's answer to a credentials request. Default 10 s. */
  credentialsTimeoutMs?: number;
  /** What clients may cost this gateway (see engine/limits.ts); defaults DEFAULT_GATEWAY_LIMITS. */
  limits?: Partial<GatewayLimits>;
  /**
   * Folder of the write-ahead log spool (see log-spool.ts): every logged command is written there before it is
   * forwarded. `portcullis gateway start` always sets it; without it events are kept in memory only.
   */
  spoolDir?: string;
  /**
   * Replaces the inner TLS of client streams. Only the benchmark's unencrypted reference path sets it
   * (bench/children/plain-tunnel.ts); `portcullis gateway start` never does, and nothing the control plane sends can.
   */
  acceptTunnel?: TunnelAcceptor;
}

export interface GatewayAgentEvents {
  status: [ChannelStatus];
  /** The control plane refused the credential; the agent keeps retrying slowly. */
  rejected: [string];
  'connection-opened': [{ sessionId: string; connectionId: string }];
  'connection-closed': [{ sessionId: string; connectionId: string }];
  'session-ended': [{ sessionId: string; reason: string }];
  /** The log buffer is full: connections are closed and refused until the control plane acknowledges logs. */
  'logs-full': [boolean];
}

export interface GatewayAgent extends EventEmitter<GatewayAgentEvents> {
  readonly origin: string;
  /** Its Prometheus metrics (served by metrics-listener.ts when a metrics port is set). */
  readonly metrics: GatewayMetrics;
  status(): ChannelStatus;
  stats(): { activeConnections: number; bufferedLogEvents: number };
  /**
   * Serves one client stream handed over in-process (the control plane's relay in the same process) exactly as a
   * `stream.open` would be served, but on `socket` instead of a data stream opened over HTTP: one hop less.
   * A refusal is told over the channel as `stream.failed` and `socket` is destroyed.
   */
  serveLocalStream(streamId: string, sessionId: string, socket: Duplex): void;
  /** Closes every connection, uploads the remaining logs (waits up to 3 s), and closes the channel. */
  stop(): Promise<void>;
}

interface PendingCredentials {
  promise: Promise<MongoTarget>;
  requestId: string;
  resolve(target: MongoTarget): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Starts the agent. Resolves once the first connection attempt is settled: online, or offline and retrying
 * (the control plane may start later). Rejects when the control plane refuses the credential.
 */
export async function startGatewayAgent(options: GatewayAgentOptions): Promise<GatewayAgent> {
  const tunnelIdentity = options.tunnelIdentity ?? (await createGatewayIdentity(options.name ?? 'gateway'));
  const agent = new Agent({ ...options, tunnelIdentity });
  await agent.firstAttempt();
  return agent;
}

class Agent extends EventEmitter<GatewayAgentEvents> implements GatewayAgent {
  private readonly channel: ReplicaChannels;
  private readonly uploader: LogUploader;
  private readonly sessions: SessionTable;
  private readonly pendingCredentials = new Map<string, PendingCredentials>();
  private readonly statsTimer: NodeJS.Timeout;
  private readonly logger: GatewayLogger;
  readonly metrics: GatewayMetrics;
  /** Opened on the first welcome, which brings the key; undefined without spoolDir. */
  private spool: LogSpool | undefined;
  /** Partly received messages of all this gateway's connections share one budget. */
  private readonly pendingBudget: PendingBytesBudget;
  private stopped = false;

  private readonly tunnelIdentity: PemKeyPair;
  readonly tunnelFingerprint: string;

  constructor(private readonly options: GatewayAgentOptions & { tunnelIdentity: PemKeyPair }) {
    super();
    this.logger = options.logger ?? { info() {}, warn() {}, error() {} };
    this.tunnelIdentity = options.tunnelIdentity;
    this.tunnelFingerprint = certificateFingerprint(options.tunnelIdentity.certificatePem);
    this.pendingBudget = new PendingBytesBudget(options.limits?.maxPendingBytes ?? DEFAULT_GATEWAY_LIMITS.maxPendingBytes);
    this.channel = new ReplicaChannels({
      server: options.server,
      credential: options.credential,
      ca: options.ca,
      name: options.name,
      version: GATEWAY_AGENT_VERSION,
      tunnelCertificate: options.tunnelIdentity.certificatePem,
      reconnect: options.reconnect,
      log: (level, message) => this.logger[level](message),
    });
    this.metrics = new GatewayMetrics({
      connected: () => this.status() === 'online',
      activeSessions: () => this.sessions.activeSessions,
      streams: () => this.sessions.activeConnections,
      logBacklog: () => this.uploader.buffered,
    });
    this.uploader = new LogUploader({
      send: (message) => this.channel.send(message),
      ...options.logs,
      onUploadLatency: (ms) => this.metrics.onLogsAcknowledged(ms / 1000),
      onAcknowledged: (batch) =>
        this.spool?.acknowledge(
          batch.sessionId,
          batch.origin,
          batch.events.map((e) => e.seq),
        ),
      onFull: (full) => {
        this.emit('logs-full', full);
        if (!full) return;
        this.logger.error('the log buffer is full (the control plane does not acknowledge logs); closing client connections');
        this.sessions.endAllConnections('the gateway cannot record commands right now');
      },
    });
    this.sessions = new SessionTable((sessionId) => this.endSession(sessionId, 'expired'));
    this.channel.on('status', (status) => {
      // An answer to a request sent on a channel that dropped never comes (a new channel is a new conversation):
      // fail those streams now rather than after the credentials timeout.
      if (status === 'offline') this.failPendingCredentials('the control plane connection dropped before it sent the session credentials');
      this.emit('status', status);
    });
    // Log batches sent on a channel to a replica that died are never acknowledged there: send them again on the
    // channels left (storing is idempotent, so one that did arrive is not stored twice).
    this.channel.on('channel-lost', () => this.uploader.resendAll());
    this.channel.on('rejected', (message) => {
      this.logger.error(message);
      this.emit('rejected', message);
    });
    this.channel.on('welcome', (welcome) => {
      this.logger.info('connected to the control plane');
      this.openSpool(welcome.spoolKey);
      this.sessions.dropIdleTargets();
      this.uploader.resendAll();
    });
    this.channel.on('message', (message, origin) => {
      // A message this gateway cannot handle is logged; it must not end the process and every session with it.
      try {
        this.handle(message, origin);
      } catch (error) {
        this.logger.error(`control message ${String(message?.type)} failed: ${(error as Error).message}`);
      }
    });
    this.statsTimer = setInterval(() => this.sendStats(), options.statsIntervalMs ?? 5000);
    this.statsTimer.unref();
    this.channel.start();
  }

  get origin(): string {
    return this.uploader.origin;
  }

  firstAttempt(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        this.channel.off('status', onStatus);
        this.channel.off('rejected', onRejected);
      };
      const onStatus = (status: ChannelStatus) => {
        if (status === 'connecting') return;
        done();
        resolve();
      };
      const onRejected = (message: string) => {
        done();
        const refused = () => reject(new Error(`${message}; enroll the gateway again`));
        this.stop().then(refused, refused);
      };
      this.channel.on('status', onStatus);
      this.channel.on('rejected', onRejected);
    });
  }

  status(): ChannelStatus {
    return this.stopped ? 'offline' : this.channel.status;
  }

  stats() {
    return { activeConnections: this.sessions.activeConnections, bufferedLogEvents: this.uploader.buffered };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.statsTimer);
    this.sessions.endAllConnections('the gateway is stopping');
    this.failPendingCredentials('the gateway is stopping');
    // The connections' last events (connection closed) arrive on the next turns of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (this.channel.status === 'online' && !(await this.uploader.drain(3000))) {
      this.logger.warn(`stopping with ${this.uploader.buffered} log events not acknowledged by the control plane`);
    }
    this.sendStats();
    this.uploader.stop();
    this.spool?.close();
    this.channel.stop();
    this.sessions.clear();
  }

  private handle(message: ServerToGateway, origin: ChannelOrigin): void {
    switch (message.type) {
      case 'stream.open':
        // The stream waits at the replica that sent this, reached at the address of the channel it came on.
        this.openStream(origin, message.streamId, message.sessionId, () =>
          openDataStream({ server: origin.server, credential: this.options.credential, streamId: message.streamId, ca: this.options.ca }),
        ).catch((error) => {
          this.logger.error(`stream ${message.streamId} failed: ${(error as Error).message}`, { sessionId: message.sessionId });
        });
        return;
      case 'credentials': {
        const pending = this.pendingCredentials.get(message.sessionId);
        if (!pending || pending.requestId !== message.requestId) return;
        const expiresAt = new Date(message.expiresAt);
        if (!(expiresAt.getTime() > Date.now())) {
          pending.reject(new Error('the session has expired'));
          return;
        }
        this.sessions.setTarget(message.sessionId, message.target, expiresAt, message.tunnel);
        pending.resolve(message.target);
        return;
      }
      case 'credentials.denied': {
        const pending = this.pendingCredentials.get(message.sessionId);
        if (pending && pending.requestId === message.requestId) pending.reject(new Error(message.message));
        return;
      }
      case 'session.end':
        this.endSession(message.sessionId, message.reason);
        return;
      case 'session.refresh':
        // A policy or the account's credentials changed: the new policy applies to the next command of every
        // connection once it is here, new credentials to the next connection.
        for (const sessionId of this.sessions.known(Array.isArray(message.sessionIds) ? message.sessionIds : [])) {
          this.credentials(sessionId, origin, { fresh: true }).catch((error) =>
            this.logger.warn(`session ${sessionId}: could not fetch its new policy: ${(error as Error).message}`, { sessionId }),
          );
        }
        return;
      case 'logs.ack':
        this.uploader.acknowledge(message.batchId);
        return;
      case 'connection.test':
        // Answered on the channel that asked: the replica holding the admin's request waits there.
        void testConnection(message.target, { resolver: this.options.resolver }).then((result) => {
          origin.send({ type: 'connection.test.result', testId: message.testId, result });
          this.logger.info(
            `connection test ${message.testId}: ${result.ok ? 'ok' : 'failed'} at ${result.stage} (${result.durationMs} ms)`,
          );
        });
        return;
      default:
        return;
    }
  }

  private endSession(sessionId: string, reason: string): void {
    if (!this.sessions.end(sessionId, reason)) return;
    const pending = this.pendingCredentials.get(sessionId);
    pending?.reject(new Error(`the session has ended (${reason})`));
    this.emit('session-ended', { sessionId, reason });
  }

  serveLocalStream(streamId: string, sessionId: string, socket: Duplex): void {
    // A refused or failed stream must not leave the client's socket open (openStream only closes what it opened).
    const local = Promise.resolve(socket);
    const origin: ChannelOrigin = { server: this.options.server, send: (message) => this.channel.send(message) };
    this.openStream(origin, streamId, sessionId, () => local)
      .then((served) => {
        if (!served) socket.destroy();
      })
      .catch((error) => {
        socket.destroy();
        this.logger.error(`stream ${streamId} failed: ${(error as Error).message}`, { sessionId });
      });
  }

  /**
   * What a `stream.open` needs: the checks, the credentials and the client's byte stream from `open` (a data
   * stream over HTTP, or a socket handed over in-process), then the engine. Resolves whether it was served.
   * `origin` is the channel of the replica that holds the user's stream: refusals go back there.
   */
  private async openStream(origin: ChannelOrigin, streamId: string, sessionId: string, open: () => Promise<Duplex>): Promise<boolean> {
    const refusal = this.stopped
      ? 'the gateway is stopping'
      : this.uploader.isFull
        ? 'the gateway cannot record commands right now (log buffer full)'
        : this.sessions.refusal(sessionId);
    if (refusal) {
      this.metrics.onStreamRefused(this.stopped ? 'stopping' : this.uploader.isFull ? 'log_buffer_full' : 'session_ended');
      origin.send({ type: 'stream.failed', streamId, message: refusal });
      return false;
    }
    // Both round trips at once: the data stream's upgrade and (on a session's first stream) the credentials. The
    // stream's outcome is taken at once, as a value: it can fail (404, 503, a closed connection) or its socket
    // can be reset while the credentials are still awaited, and a rejection or an 'error' event nobody listens
    // to yet would end the process, and every session of this gateway with it.
    const onEarlyError = (error: Error) =>
      this.logger.warn(`data stream ${streamId} failed before it was served: ${error.message}`, { sessionId });
    const opening: Promise<{ socket: Duplex } | { error: Error }> = open().then(
      (socket) => {
        socket.on('error', onEarlyError);
        return { socket };
      },
      (error: Error) => ({ error }),
    );
    let target: MongoTarget;
    try {
      target = await this.credentials(sessionId, origin);
    } catch (error) {
      // Told over the channel (the relay refuses a waiting user stream with this message); a stream already
      // paired is simply closed.
      this.metrics.onStreamRefused('credentials');
      origin.send({ type: 'stream.failed', streamId, message: (error as Error).message });
      void opening.then((opened) => ('socket' in opened ? opened.socket.destroy() : undefined));
      return false;
    }
    const opened = await opening;
    if ('error' in opened) {
      this.metrics.onStreamRefused('stream_failed');
      origin.send({ type: 'stream.failed', streamId, message: `could not open the data stream: ${opened.error.message}` });
      return false;
    }
    const tunnel = this.sessions.tunnel(sessionId);
    if (!tunnel) {
      // Never served in clear: the control plane did not vouch for a session certificate.
      this.metrics.onStreamRefused('tunnel');
      origin.send({
        type: 'stream.failed',
        streamId,
        message: 'the session has no certificate for end-to-end encryption; start a new session with a current client',
      });
      opened.socket.destroy();
      return false;
    }
    // Checked before the handshake (a stream that closed while the credentials were awaited is told as such), and
    // again after it (the session may have ended, or the gateway begun to stop, meanwhile).
    if (this.refuseLate(origin, streamId, sessionId, opened.socket)) return false;
    const socket = await this.encrypt(streamId, sessionId, opened.socket, tunnel);
    if (!socket || this.refuseLate(origin, streamId, sessionId, socket)) return false;
    this.serve(streamId, sessionId, target, socket);
    // The engine listens to the encrypted socket's errors from here on (the raw socket's reach it too).
    opened.socket.off('error', onEarlyError);
    opened.socket.on('error', () => {});
    return true;
  }

  /** Refuses (tells the relay, closes the stream) when the stream can no longer be served; says whether it did. */
  private refuseLate(origin: ChannelOrigin, streamId: string, sessionId: string, socket: Duplex): boolean {
    const refusal = this.stopped
      ? 'the gateway is stopping'
      : (this.sessions.refusal(sessionId) ?? (socket.destroyed ? 'the data stream closed before it could be served' : undefined));
    if (!refusal) return false;
    this.metrics.onStreamRefused(this.stopped ? 'stopping' : 'session_ended');
    origin.send({ type: 'stream.failed', streamId, message: refusal });
    socket.destroy();
    return true;
  }

  /**
   * The TLS server end of the stream: only the client holding the session certificate the control plane vouched
   * for gets through (tunnel/tls.ts). Each accepted certificate is logged here, on the gateway's own machine, as a
   * record the control plane cannot rewrite.
   */
  private async encrypt(streamId: string, sessionId: string, socket: Duplex, tunnel: SessionTunnelPins): Promise<Duplex | undefined> {
    try {
      const secure = await (this.options.acceptTunnel ?? acceptTunnel)(socket, {
        keyPem: this.tunnelIdentity.keyPem,
        certificatePem: this.tunnelIdentity.certificatePem,
        clientCaPem: tunnel.clientCa,
        clientFingerprint: tunnel.clientFingerprint,
        sessionId,
      });
      this.logger.info(`session ${sessionId} stream ${streamId}: encrypted, client certificate ${tunnel.clientFingerprint}`);
      return secure;
    } catch (error) {
      this.metrics.onStreamRefused('tunnel');
      this.logger.warn(`session ${sessionId} stream ${streamId}: refused: ${(error as Error).message}`);
      socket.destroy();
      return undefined;
    }
  }

  private serve(streamId: string, sessionId: string, target: MongoTarget, socket: Duplex): void {
    // The upgraded socket is the client's byte stream: the engine reads and writes it directly.
    const served = serveClient(socket, {
      target,
      // Asked on every command, so that a policy changed while the connection runs applies to its next command.
      policy: () => this.sessions.policy(sessionId),
      connectionId: streamId,
      maskPatterns: this.options.maskPatterns,
      resolver: this.options.resolver,
      limits: this.options.limits,
      pendingBudget: this.pendingBudget,
      onDetail: (detail) => this.logger.warn(`session ${sessionId} connection ${streamId}: ${detail}`, { sessionId }),
      onCommandStart: this.options.spoolDir
        ? (event) => {
            if (!this.spool) throw new SpoolWriteError('the gateway has no log spool yet (it waits for the control plane)');
            const seq = this.uploader.nextSeq(sessionId);
            this.spool.begin(sessionId, seq, event);
            return seq;
          }
        : undefined,
      onEvent: (event: SessionLogEvent, started?: number) => {
        if (event.kind === 'command') this.sessions.countCommand(sessionId);
        this.metrics.onEvent(event);
        const seq = started ?? this.uploader.nextSeq(sessionId);
        try {
          this.spool?.event(sessionId, seq, event);
        } catch (error) {
          // The event still goes to the control plane from memory; a command that began is on disk already.
          this.logger.error((error as Error).message);
        }
        this.uploader.addNumbered(sessionId, seq, event);
      },
    });
    const connection: LiveConnection = {
      end: (reason) => {
        served.close(reason);
        socket.destroy();
      },
    };
    this.sessions.addConnection(sessionId, connection);
    this.metrics.onConnectionOpened(socket);
    this.emit('connection-opened', { sessionId, connectionId: streamId });
    served.done
      .catch((error) => this.logger.warn(`connection ${streamId} ended with an error: ${(error as Error).message}`, { sessionId }))
      .then(() => {
        this.sessions.removeConnection(sessionId, connection);
        socket.destroy();
        this.metrics.onConnectionClosed(socket);
        this.emit('connection-closed', { sessionId, connectionId: streamId });
      })
      // A listener that throws must not become an unhandled rejection (which would end the process).
      .catch((error) => this.logger.error(`connection ${streamId}: ${(error as Error).message}`, { sessionId }));
  }

  /**
   * Opens the spool with the key the control plane sent, once, and queues what an earlier run left behind
   * (completed events, and begun commands as outcome unknown) for upload under their own origin and numbers.
   */
  private openSpool(key: string | undefined): void {
    if (!this.options.spoolDir || this.spool) return;
    if (!key) {
      this.logger.error('the control plane sent no spool key; logged commands are refused until it does');
      return;
    }
    try {
      const { spool, recovered, unreadable } = LogSpool.open(this.options.spoolDir, Buffer.from(key, 'base64'), this.uploader.origin);
      this.spool = spool;
      for (const entry of recovered) this.uploader.addNumbered(entry.sessionId, entry.seq, entry.event, entry.origin);
      for (const path of unreadable)
        this.logger.error(`${path} does not decrypt with this control plane's spool key; it is kept, not uploaded`);
      if (recovered.length > 0) this.logger.info(`uploading ${recovered.length} log events left in the spool by an earlier run`);
    } catch (error) {
      this.logger.error(
        `the log spool in ${this.options.spoolDir} cannot be opened (${(error as Error).message}); logged commands are refused`,
      );
    }
  }

  /** The session's target from memory, or asked for once over the channel (concurrent streams share the request). */
  private credentials(sessionId: string, origin: ChannelOrigin, options: { fresh?: boolean } = {}): Promise<MongoTarget> {
    const known = options.fresh ? undefined : this.sessions.target(sessionId);
    if (known) return Promise.resolve(known);
    const inFlight = this.pendingCredentials.get(sessionId);
    if (inFlight) return inFlight.promise;
    const requestId = `cr_${randomBytes(9).toString('base64url')}`;
    let resolveFn!: (target: MongoTarget) => void;
    let rejectFn!: (error: Error) => void;
    const promise = new Promise<MongoTarget>((resolve, reject) => {
      resolveFn = resolve;
      rejectFn = reject;
    });
    const settle = () => {
      clearTimeout(pending.timer);
      if (this.pendingCredentials.get(sessionId) === pending) this.pendingCredentials.delete(sessionId);
    };
    const pending: PendingCredentials = {
      promise,
      requestId,
      resolve: (target) => {
        settle();
        resolveFn(target);
      },
      reject: (error) => {
        settle();
        rejectFn(error);
      },
      timer: setTimeout(
        () => pending.reject(new Error('the control plane did not send the session credentials in time')),
        this.options.credentialsTimeoutMs ?? 10_000,
      ),
    };
    this.pendingCredentials.set(sessionId, pending);
    // Asked on the channel of the replica holding the stream, which answers on it (any replica could).
    if (
      !origin.send({ type: 'credentials.request', requestId, sessionId }) &&
      !this.channel.send({ type: 'credentials.request', requestId, sessionId })
    ) {
      pending.reject(new Error('the gateway is not connected to the control plane'));
    }
    return promise;
  }

  private failPendingCredentials(message: string): void {
    for (const pending of [...this.pendingCredentials.values()]) pending.reject(new Error(message));
  }

  private sendStats(): void {
    if (this.channel.status !== 'online') return;
    for (const { sessionId, connections, commands } of this.sessions.changedStats()) {
      this.channel.send({ type: 'session.stats', sessionId, connections, commands });
    }
  }
}
