/**
 * startAccess: asks the control plane for access to one account (answering MFA through a callback), listens on
 * 127.0.0.1, and tunnels each accepted connection through its own relay data stream (relay-connection.ts).
 *
 * The session's end is learnt three ways: a relay stream closed or refused by the relay's side (then GET
 * /sessions/:id is asked at once, and says whether and why the session ended: raw streams carry no reason), a
 * local timer at expiresAt, and a light poll of the same GET (so an admin's termination is noticed with no
 * connection open). When the control plane cannot be reached for `networkLostAfterMs` (default 60 s) in a row, the session
 * ends locally with `network_lost`. A single relay stream that drops closes only its client connection.
 */
import { generateKeyPairSync } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import {
  type AccessGranted,
  type AccessMfaChallenge,
  type AccessRequest,
  type AccessRequestDto,
  API_ERROR_CODES,
  API_PREFIX,
  type RelayTicketDto,
  type SessionDto,
  type SessionEndReason,
} from '../protocol/api';
import { RELAY_PATH } from '../protocol/relay';
import type { TunnelClientOptions, TunnelConnector } from '../tunnel/tls';
import { AccessRequestClosed, waitForApproval } from './access-approval';
import { ApiClient, isApiError } from './api-client';
import { registerExitStop } from './exit-stop';
import { tunnel } from './relay-connection';

export type AccessEndReason = SessionEndReason | 'network_lost' | 'signed_out';

export interface AccessEvents {
  'connection-opened': [{ id: string }];
  /** bytesOut: client → database; bytesIn: database → client. `error` says why a connection was cut. */
  'connection-closed': [{ id: string; bytesIn: number; bytesOut: number; error?: string }];
  ended: [{ reason: AccessEndReason; message: string }];
}

export interface AccessStats {
  connections: number;
  activeConnections: number;
  bytesIn: number;
  bytesOut: number;
}

export interface AccessHandle {
  /** `mongodb://127.0.0.1:PORT/`: no credentials, no directConnection (the gateway presents one server). */
  readonly uri: string;
  readonly port: number;
  readonly session: SessionDto;
  readonly expiresAt: Date;
  readonly ended: boolean;
  on<E extends keyof AccessEvents>(event: E, listener: (...args: AccessEvents[E]) => void): this;
  off<E extends keyof AccessEvents>(event: E, listener: (...args: AccessEvents[E]) => void): this;
  once<E extends keyof AccessEvents>(event: E, listener: (...args: AccessEvents[E]) => void): this;
  stats(): AccessStats;
  /** Ends the session at the control plane, closes the listener and every connection. Safe to call twice. */
  stop(): Promise<void>;
}

export interface AccessOptions {
  server: string;
  token: string;
  accountId: string;
  durationSeconds?: number;
  /** Local port; omitted or 0 picks a free one. */
  port?: number;
  clientAgent?: string;
  /** Why the session is needed; some accounts require one (the request is refused with reason_required without it). */
  reason?: string;
  /** Asked for the code of an MFA challenge; resolve undefined to cancel. Called again with `error` after a wrong code. */
  onMfa?: (challenge: AccessMfaChallenge, attempt: { error?: string }) => Promise<string | undefined>;
  /**
   * Accounts that require approval: told that a request is waiting for an admin (its id and reason). Without it, such
   * an account fails at once with the request's id in the message.
   */
  onApprovalPending?: (request: AccessRequestDto) => void;
  /** Aborting stops waiting for approval (the request is withdrawn). */
  signal?: AbortSignal;
  /** PEM of a private CA that issued the control plane's certificate (instead of the system's roots). */
  ca?: string;
  /** How often the session's state is polled. Default 5 s. */
  pollIntervalMs?: number;
  /** How long the control plane may stay unreachable before the session ends with network_lost. Default 60 s. */
  networkLostAfterMs?: number;
  /** Per-request time limit of API calls. Default 15 s. */
  requestTimeoutMs?: number;
  /**
   * Replaces the inner TLS with the gateway. Only the benchmark's unencrypted reference path sets it
   * (bench/children/plain-tunnel.ts); the CLI and the extension never do, and a gateway they did not build refuses it.
   */
  connectTunnel?: TunnelConnector;
}

const END_MESSAGES: Record<AccessEndReason, string> = {
  stopped: 'the session was stopped',
  expired: 'the session reached its end time',
  terminated: 'an admin terminated the session',
  idle: 'the session ended after being idle too long',
  gateway_offline: 'the gateway that reaches this database went offline',
  failed: 'the session failed',
  network_lost: 'the control plane could not be reached',
  signed_out: 'your sign-in is no longer valid; sign in again',
};

/** A relay ticket with less time left than this is replaced before use. */
const TICKET_MARGIN_MS = 30_000;
const MAX_MFA_ATTEMPTS = 5;
const MAX_TIMER_MS = 2_147_483_647;

export async function startAccess(options: AccessOptions): Promise<AccessHandle> {
  const api = new ApiClient({
    server: options.server,
    token: options.token,
    ca: options.ca,
    timeoutMs: options.requestTimeoutMs ?? 15_000,
  });
  // Listen first: a port in use fails before a session is created or an MFA code is asked for.
  const listener = await listen(options.port ?? 0);
  // The session's tunnel key: made here, kept in this process's memory only; the control plane certifies its public half.
  const sessionKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const tunnelPublicKey = sessionKey.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  let granted: AccessGranted;
  try {
    granted = await requestAccess(api, options, tunnelPublicKey);
  } catch (error) {
    listener.close();
    throw error;
  }
  if (!granted.tunnel?.clientCertificate || !granted.tunnel.gatewayFingerprint) {
    listener.close();
    throw new Error(
      'the control plane granted a session without end-to-end encryption (no tunnel certificate): it is an older version; ask an admin to update it',
    );
  }
  const tunnelOptions: TunnelClientOptions = {
    keyPem: sessionKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificatePem: granted.tunnel.clientCertificate,
    gatewayFingerprint: granted.tunnel.gatewayFingerprint,
  };
  return new Access(api, options, listener, granted, tunnelOptions);
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ pauseOnConnect: true, noDelay: true });
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new Error(`port ${port} on 127.0.0.1 is already in use; pick another with --port, or omit --port to use a free one`));
      } else if (error.code === 'EACCES') {
        reject(new Error(`not allowed to listen on port ${port} on 127.0.0.1; pick a port above 1023, or omit --port`));
      } else {
        reject(new Error(`could not listen on 127.0.0.1:${port} (${error.code ?? error.message})`));
      }
    });
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function requestAccess(api: ApiClient, options: AccessOptions, tunnelPublicKey: string): Promise<AccessGranted> {
  const base: AccessRequest = { durationSeconds: options.durationSeconds, clientAgent: options.clientAgent, tunnelPublicKey };
  if (options.reason !== undefined) base.reason = options.reason;
  let answer = await api.requestAccess(options.accountId, base);
  if (answer.kind === 'approval') {
    if (!options.onApprovalPending) {
      throw new AccessRequestClosed(
        'pending',
        answer.request.id,
        `this account requires approval; request ${answer.request.id} waits for an admin`,
      );
    }
    await waitForApproval(api, answer.request, { onPending: options.onApprovalPending, signal: options.signal });
    // Approved: the grant lets the same request through (MFA, if the account requires it, comes now).
    answer = await api.requestAccess(options.accountId, base);
  }
  let attempts = 0;
  let error: string | undefined;
  while (answer.kind === 'mfa') {
    const challenge = answer;
    if (!options.onMfa) throw new Error('this account requires multi-factor authentication, and no way to ask for a code was given');
    if (++attempts > MAX_MFA_ATTEMPTS) throw new Error(`too many wrong MFA codes (${MAX_MFA_ATTEMPTS}); request access again`);
    const code = await options.onMfa(challenge, error === undefined ? {} : { error });
    if (code === undefined) throw new Error('access cancelled: no MFA code was given');
    try {
      answer = await api.requestAccess(options.accountId, { ...base, mfa: { challengeId: challenge.challengeId, code: code.trim() } });
    } catch (caught) {
      if (isApiError(caught, API_ERROR_CODES.mfaInvalid)) {
        error = caught.message;
        continue; // same challenge, ask again
      }
      if (isApiError(caught, API_ERROR_CODES.mfaExpired)) {
        error = caught.message;
        answer = await api.requestAccess(options.accountId, base); // a new challenge
        continue;
      }
      throw caught;
    }
  }
  // A grant that ended between the approval and the MFA answer.
  if (answer.kind === 'approval')
    throw new Error(`the grant of access request ${answer.request.id} ended before it could be used; ask again`);
  return answer;
}

class Access extends EventEmitter<AccessEvents> implements AccessHandle {
  readonly uri: string;
  readonly port: number;
  readonly session: SessionDto;
  readonly expiresAt: Date;
  private readonly relayUrl: string;
  private ticket: RelayTicketDto;
  private ticketRefresh: Promise<RelayTicketDto> | undefined;
  private readonly live = new Map<string, { close(): void }>();
  private readonly sockets = new Set<Socket>();
  private nextId = 0;
  private totals = { connections: 0, bytesIn: 0, bytesOut: 0 };
  private isEnded = false;
  private endReason: AccessEndReason | undefined;
  private stopping: Promise<void> | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private sessionCheck: Promise<void> | undefined;
  private unreachableSince: number | undefined;
  private readonly listenerClosed: Promise<void>;
  private readonly unregisterExit: () => void;

  constructor(
    private readonly api: ApiClient,
    private readonly options: AccessOptions,
    private readonly listener: Server,
    granted: AccessGranted,
    private readonly tunnelOptions: TunnelClientOptions,
  ) {
    super();
    const address = listener.address();
    this.port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
    this.uri = `mongodb://127.0.0.1:${this.port}/`;
    this.session = granted.session;
    this.expiresAt = new Date(granted.session.expiresAt);
    this.ticket = { ticket: granted.relay.ticket, expiresAt: granted.relay.expiresAt };
    this.relayUrl = granted.relay.url
      ? toStreamUrl(granted.relay.url, api.server)
      : toStreamUrl(`${api.server}${API_PREFIX}${RELAY_PATH}`, api.server);
    this.listenerClosed = new Promise((resolve) => listener.once('close', () => resolve()));
    listener.on('connection', (socket) => this.accept(socket));
    this.armExpiry();
    this.schedulePoll();
    this.unregisterExit = registerExitStop({
      url: `${api.server}${API_PREFIX}/sessions/${encodeURIComponent(this.session.id)}/stop`,
      token: options.token,
      ca: options.ca,
      closeLocal: () => this.closeLocal(),
    });
  }

  get ended(): boolean {
    return this.isEnded;
  }

  stats(): AccessStats {
    return { connections: this.totals.connections, activeConnections: this.live.size, ...this.byteTotals() };
  }

  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        if (!this.isEnded) {
          // Local resources go first so that nothing new starts while the request runs.
          this.closeLocal();
          try {
            await this.api.stopSession(this.session.id);
          } catch (error) {
            // Already ended (or unreachable): the local side is closed either way; the server ends it by expiry.
            if (!isApiError(error, API_ERROR_CODES.sessionNotActive) && !isApiError(error, API_ERROR_CODES.notFound)) {
              this.end('stopped', `${END_MESSAGES.stopped} here, but the control plane was not told: ${(error as Error).message}`);
            }
          }
          this.end('stopped');
        }
        await this.listenerClosed;
      })();
    }
    return this.stopping;
  }

  private byteTotals(): { bytesIn: number; bytesOut: number } {
    return { bytesIn: this.totals.bytesIn, bytesOut: this.totals.bytesOut };
  }

  private accept(socket: Socket): void {
    if (this.isEnded) {
      socket.destroy();
      return;
    }
    const id = `c${++this.nextId}`;
    this.totals.connections++;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    this.live.set(id, { close: () => socket.destroy() });
    this.emit('connection-opened', { id });
    this.currentTicket()
      .then((ticket) => {
        if (this.isEnded || socket.destroyed) {
          socket.destroy();
          this.finishConnection(id, 0, 0);
          return;
        }
        const link = tunnel(socket, {
          url: this.relayUrl,
          ticket: ticket.ticket,
          sessionId: this.session.id,
          ca: this.options.ca,
          tunnel: this.tunnelOptions,
          connectTunnel: this.options.connectTunnel,
        });
        this.live.set(id, link);
        return link.done.then(async (result) => {
          if (result.refused?.status === 401) {
            this.ticket = { ...this.ticket, expiresAt: new Date(0).toISOString() }; // fetch a fresh one next time
          }
          let error = result.error;
          // The relay's side closed or refused the stream: the session may have ended (terminated, expired...).
          if ((result.closedByRelay || result.refused) && !this.isEnded) await this.checkSession();
          if (this.endReason && (result.closedByRelay || result.refused)) error = `the session ended (${this.endReason})`;
          this.finishConnection(id, result.bytesIn, result.bytesOut, error);
        });
      })
      .catch((error) => {
        socket.destroy();
        this.noteApiFailure(error);
        this.finishConnection(id, 0, 0, `could not get a relay ticket: ${(error as Error).message}`);
      });
  }

  private finishConnection(id: string, bytesIn: number, bytesOut: number, error?: string): void {
    if (!this.live.delete(id)) return;
    this.totals.bytesIn += bytesIn;
    this.totals.bytesOut += bytesOut;
    this.emit('connection-closed', error ? { id, bytesIn, bytesOut, error } : { id, bytesIn, bytesOut });
  }

  /** The cached relay ticket, or a fresh one when it is close to expiry (concurrent callers share the request). */
  private currentTicket(): Promise<RelayTicketDto> {
    if (Date.parse(this.ticket.expiresAt) - Date.now() > TICKET_MARGIN_MS) return Promise.resolve(this.ticket);
    if (!this.ticketRefresh) {
      this.ticketRefresh = this.api
        .createRelayTicket(this.session.id)
        .then((ticket) => {
          this.ticket = ticket;
          this.unreachableSince = undefined;
          return ticket;
        })
        .finally(() => {
          this.ticketRefresh = undefined;
        });
    }
    return this.ticketRefresh;
  }

  private armExpiry(): void {
    const wait = this.expiresAt.getTime() - Date.now();
    if (wait <= 0) {
      this.end('expired');
      return;
    }
    this.expiryTimer = setTimeout(() => this.armExpiry(), Math.min(wait, MAX_TIMER_MS));
  }

  private schedulePoll(): void {
    if (this.isEnded) return;
    this.pollTimer = setTimeout(() => this.poll(), this.options.pollIntervalMs ?? 5000);
  }

  private async poll(): Promise<void> {
    await this.checkSession();
    this.schedulePoll();
  }

  /** Asks the control plane for the session's state and ends here if it ended there; concurrent callers share it. */
  private checkSession(): Promise<void> {
    this.sessionCheck ??= this.api
      .getSession(this.session.id)
      .then(
        (session) => {
          this.unreachableSince = undefined;
          if (session.state !== 'active' && session.state !== 'starting') {
            this.end(
              session.endReason ?? (session.state === 'terminated' ? 'terminated' : session.state === 'expired' ? 'expired' : 'failed'),
            );
          }
        },
        (error) => this.noteApiFailure(error),
      )
      .finally(() => {
        this.sessionCheck = undefined;
      });
    return this.sessionCheck;
  }

  private noteApiFailure(error: unknown): void {
    if (isApiError(error, API_ERROR_CODES.unauthenticated)) {
      this.end('signed_out');
      return;
    }
    if (isApiError(error, API_ERROR_CODES.notFound) || isApiError(error, API_ERROR_CODES.sessionNotActive)) {
      this.end('failed', 'the control plane no longer knows this session as active');
      return;
    }
    if (!isApiError(error, 'network_error')) return;
    const now = Date.now();
    this.unreachableSince ??= now;
    const limit = this.options.networkLostAfterMs ?? 60_000;
    if (now - this.unreachableSince >= limit) {
      this.end('network_lost', `${END_MESSAGES.network_lost} for ${Math.round(limit / 1000)} s`);
    }
  }

  /** Closes the listener and every connection; idempotent. */
  private closeLocal(): void {
    clearTimeout(this.expiryTimer);
    clearTimeout(this.pollTimer);
    if (this.listener.listening) this.listener.close();
    for (const link of this.live.values()) link.close();
    for (const socket of this.sockets) socket.destroy();
  }

  private end(reason: AccessEndReason, message = END_MESSAGES[reason]): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.endReason = reason;
    this.unregisterExit();
    this.closeLocal();
    this.emit('ended', { reason, message });
  }
}

/** http(s):// form of the relay address, which the API gives as ws(s):// (relative addresses resolve against the server). */
function toStreamUrl(address: string, server: string): string {
  const url = new URL(address, server);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  return url.toString();
}
