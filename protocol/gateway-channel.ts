/**
 * Messages on the gateway's control channel: one WebSocket the gateway opens to
 * `${API_PREFIX}/gateway/channel` with `Authorization: Bearer <gateway credential>`, JSON text frames.
 *
 * Data does not flow here. For each client connection the control plane sends `stream.open`; the gateway
 * then opens a WebSocket to `${API_PREFIX}/gateway/streams/<streamId>` (same credential) whose binary
 * frames carry the client's MongoDB bytes, and serves it with the gateway engine.
 */
import type { ConnectionTestDto, SessionEndReason } from './api';
import type { SessionLogEvent } from './session-log';
import type { MongoTarget } from './target';

export const GATEWAY_CHANNEL_PATH = '/gateway/channel';
export const GATEWAY_STREAM_PATH = '/gateway/streams';
export const GATEWAY_ENROLL_PATH = '/gateway/enroll';

/** Close codes of the control channel (besides 1000 and 1001). */
export const GATEWAY_CHANNEL_CLOSE_CODES = Object.freeze({
  /** The credential is unknown or revoked: re-enroll the gateway. */
  unauthorized: 4001,
  /** A newer channel with the same credential replaced this one. */
  replaced: 4009,
  /** No heartbeat within three intervals. */
  heartbeatMissed: 4010,
  /** The gateway sent something that is not a valid message. */
  protocolError: 4011,
} as const);

/** POST `${API_PREFIX}${GATEWAY_ENROLL_PATH}` body; the answer is `GatewayEnrollResponse`. */
export interface GatewayEnrollRequest {
  token: string;
  /** Name shown to admins; defaults to the host name. */
  name?: string;
}

export interface GatewayEnrollResponse {
  gatewayId: string;
  /** The gateway's own long-lived credential. Keep it secret (file mode 0600). */
  credential: string;
}

/** What the gateway pins for a session's streams: only the client holding this certificate's key gets through. */
export interface SessionTunnelPins {
  /** PEM of the project's tunnel CA, the issuer of session certificates. */
  clientCa: string;
  /** SHA-256 fingerprint of the session certificate issued at session start. */
  clientFingerprint: string;
}

/** Log events with their per-session sequence numbers. `origin` + `seq` is unique per session. */
export interface LogBatch {
  sessionId: string;
  /** Random id of the gateway process run that numbered these events. */
  origin: string;
  events: Array<SessionLogEvent & { seq: number }>;
}

/**
 * A live control-plane replica (several may share one database behind a load balancer). The gateway keeps one
 * control channel to each, at `url`, and opens a stream's data stream at the replica that sent its `stream.open`.
 */
export interface ReplicaInfo {
  id: string;
  /** Base address (http(s)://host[:port]) the gateway reaches this replica at. */
  url: string;
}

// gateway -> control plane
export type GatewayToServer =
  /**
   * `instance`: random per gateway process run; channels of one instance (one per replica) live side by side, a
   * channel of another instance replaces them. `replicaId`: the replica the gateway meant to reach (absent on the
   * channel to its starting address, which may be any replica).
   */
  /**
   * `tunnelCertificate`: the self-signed certificate (PEM) of the gateway's tunnel key; clients accept only the
   * gateway whose fingerprint the control plane vouched for (end-to-end encryption, tunnel/tls.ts).
   */
  | { type: 'hello'; version: string; name?: string; instance?: string; replicaId?: string; tunnelCertificate?: string }
  | { type: 'heartbeat'; time: string }
  | { type: 'credentials.request'; requestId: string; sessionId: string }
  | { type: 'stream.failed'; streamId: string; message: string }
  | { type: 'logs'; batchId: string; batch: LogBatch }
  | { type: 'session.stats'; sessionId: string; connections: number; commands: number }
  | { type: 'connection.test.result'; testId: string; result: ConnectionTestDto };

// control plane -> gateway
export type ServerToGateway =
  /**
   * `spoolKey` (base64, 32 bytes): the key the gateway encrypts its log spool with. Derived by the control plane
   * for this gateway and sent on every connect, so the gateway keeps it in memory only and a copied disk is useless.
   */
  | {
      type: 'welcome';
      gatewayId: string;
      heartbeatIntervalMs: number;
      spoolKey?: string;
      /** The replica answering, and the live replicas it knows (itself included). */
      replicaId?: string;
      replicas?: ReplicaInfo[];
    }
  /** The live replicas changed (one joined, or one's lease passed). */
  | { type: 'replicas'; replicas: ReplicaInfo[] }
  | { type: 'heartbeat.ack'; time: string }
  | { type: 'stream.open'; streamId: string; sessionId: string }
  /** `tunnel`: the session certificate the gateway accepts (issued by `clientCa`, with this fingerprint). */
  | {
      type: 'credentials';
      requestId: string;
      sessionId: string;
      target: MongoTarget;
      expiresAt: string;
      tunnel?: SessionTunnelPins;
    }
  | { type: 'credentials.denied'; requestId: string; sessionId: string; message: string }
  | { type: 'session.end'; sessionId: string; reason: SessionEndReason }
  /** What these sessions may do changed (their account's policy): ask for their credentials again; running connections apply the new policy to their next command. */
  | { type: 'session.refresh'; sessionIds: string[] }
  | { type: 'logs.ack'; batchId: string }
  /**
   * Reach `target` (and sign in, when it has a username) now, then close: an admin's Test Connection. No session,
   * nothing recorded; the target is used once and not kept.
   */
  | { type: 'connection.test'; testId: string; target: MongoTarget };
