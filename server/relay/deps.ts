/**
 * What the relay needs from the rest of the control plane. attachRelay depends on this interface only, so the
 * relay can be tested without HTTP routes and the control plane can change its services freely: the composition
 * root adapts its services to it. Every method may be sync or async; the relay awaits them and treats a throw as
 * "no" (authentication) or "try again later" (log batches are not acknowledged, so the gateway resends them).
 */
import type { Duplex } from 'node:stream';
import type { ConnectionTestDto, SessionEndReason } from '../../protocol/api';
import type { LogBatch, ReplicaInfo, SessionTunnelPins } from '../../protocol/gateway-channel';
import type { MongoTarget } from '../../protocol/target';

type MaybePromise<T> = T | Promise<T>;

export interface GatewayIdentity {
  gatewayId: string;
  projectId: string;
}

export interface RelayTicketGrant {
  sessionId: string;
  userId: string;
  /** The gateway that serves the session: the relay sends it `stream.open`. */
  gatewayId: string;
}

/** Null when the gateway has no channel to this replica. */
export type ConnectionTester = (gatewayId: string, target: MongoTarget) => Promise<ConnectionTestDto> | null;

/** `tunnel`: the session certificate the gateway accepts; absent for sessions from before end-to-end encryption. */
export type SessionTargetAnswer = { target: MongoTarget; expiresAt: Date | string; tunnel?: SessionTunnelPins } | { denied: string };

export type SessionEndedListener = (sessionId: string, reason: SessionEndReason, gatewayId: string) => void;

/** The replicas sharing the database (server/replicas/replica-registry.ts); without it, a registry of one. */
export interface ReplicaDirectory {
  /** This replica's id. */
  readonly id: string;
  /** The live replicas, this one included. */
  live(): ReplicaInfo[];
  /** Subscribes to changes of the live list; returns an unsubscribe. */
  onChange(listener: (replicas: ReplicaInfo[]) => void): () => void;
}

export interface RelayDeps {
  /** The live replicas, told to gateways so they keep a channel to each. Optional: one replica without it. */
  replicas?: ReplicaDirectory;
  /**
   * Whether some replica heard from the gateway recently (the database's `last_seen_at`). A user stream for a
   * gateway with no channel here is then held briefly while the gateway's channel to this replica arrives (this
   * replica just started), instead of refused. Optional: without it, refused at once.
   */
  isGatewayRecentlySeen?(gatewayId: string): MaybePromise<boolean>;
  /**
   * Ends the active sessions of gateways no replica has heard from for `graceMs` (reason gateway_offline), deciding
   * from the database on one replica at a time. Optional: without it, each disconnect starts a local grace timer.
   */
  sweepOfflineGateways?(graceMs: number): MaybePromise<void>;
  /** The gateway owning this credential, or null when it is unknown or revoked. */
  authenticateGateway(credential: string): MaybePromise<GatewayIdentity | null>;
  /** Records the gateway's channel state and last-seen time (called on connect, on heartbeats, on disconnect). */
  setGatewayConnected(gatewayId: string, connected: boolean, at: Date, version?: string): MaybePromise<void>;
  /** The gateway presented its tunnel certificate in hello (stored and audited when it changed). Optional. */
  recordTunnelCertificate?(gatewayId: string, certificatePem: string): MaybePromise<void>;
  /** The ticket's grant when it is valid, unexpired and for this session (which must be active); otherwise null. */
  verifyRelayTicket(ticket: string, sessionId: string): MaybePromise<RelayTicketGrant | null>;
  /** The key `gatewayId` encrypts its log spool with (32 bytes, the same on every connect). Optional. */
  spoolKeyFor?(gatewayId: string): Buffer;
  /** The session's target for its gateway, or why it is refused (not active, not this gateway's). */
  getSessionTarget(sessionId: string, gatewayId: string): MaybePromise<SessionTargetAnswer>;
  /**
   * Stores a batch of log events sent by `gatewayId`; must be idempotent on (sessionId, origin, seq), and should
   * refuse (throw) a batch for a session that is not this gateway's.
   */
  appendLogBatch(batch: LogBatch, gatewayId: string): MaybePromise<void>;
  /** Data flowed on one of the session's streams recently (for the idle timeout). Called at most every few seconds. */
  touch(sessionId: string): MaybePromise<void>;
  connectionOpened(sessionId: string): MaybePromise<void>;
  connectionClosed(sessionId: string): MaybePromise<void>;
  /** The gateway stayed away longer than the grace period: end its active sessions (reason gateway_offline). */
  gatewayWentOffline(gatewayId: string): MaybePromise<void>;
  /** Gateways with active sessions, asked once at start: those not back within the grace period go offline. Optional. */
  gatewaysWithActiveSessions?(): MaybePromise<string[]>;
  /** Subscribes to session ends (stop, expiry, termination, idle, gateway offline); returns an unsubscribe. */
  onSessionEnded(listener: SessionEndedListener): () => void;
  /**
   * Given, once attached, the way to ask a connected gateway for a connection test (the API's Test Connection
   * answers through it). Optional.
   */
  provideConnectionTester?(tester: ConnectionTester): void;
  /** Subscribes to policy changes of running sessions (the gateway is told to fetch them again). Optional. */
  onSessionsRefresh?(listener: (gatewayId: string, sessionIds: string[]) => void): () => void;
  /** Subscribes to gateway deletions (the channel and streams of that gateway are closed). Optional. */
  onGatewayRevoked?(listener: (gatewayId: string) => void): () => void;
  /** Counters the gateway reports for a session (totals seen by one gateway process run). Optional. */
  recordSessionStats?(sessionId: string, gatewayId: string, stats: { connections: number; commands: number }): MaybePromise<void>;
  /** Where the relay reports problems (never with secrets). Defaults to nothing. */
  log?(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

/**
 * Gateway agents running in the control plane's own process (`portcullis start`). The relay hands a user stream
 * for one of their sessions straight to the agent, answered at once, instead of sending `stream.open` and waiting
 * for the agent to connect back over loopback: one process hop less on every round trip.
 */
export interface LocalGateways {
  has(gatewayId: string): boolean;
  /** Serves the client's byte stream (already answered 101); refusals close `socket`. Must not throw for a refusal. */
  serve(gatewayId: string, streamId: string, sessionId: string, socket: Duplex): void;
}
