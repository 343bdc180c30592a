import type { PolicyRule } from './policy';

/**
 * Session log events: produced by the gateway, stored by the control plane, shown by the CLI and the extension.
 */

interface EventBase {
  /** ISO 8601 time the event started (for a command: when the request arrived at the gateway). */
  time: string;
  /** Identifies one client connection within the session. */
  connectionId: string;
}

/** One client command and its outcome. */
export interface CommandEvent extends EventBase {
  kind: 'command';
  database: string;
  /** Command name as the client sent it (`find`, `insert`, `aggregate`, ...). */
  command: string;
  /** Collection the command names, when it names one. */
  collection?: string;
  /**
   * The multi-document transaction the command belongs to (`txn_` + 10 characters, derived from the command's
   * `lsid` and `txnNumber`): the same on every command of the transaction, its commit and abort included.
   */
  transaction?: string;
  /**
   * The command as compact JSON (relaxed Extended JSON), without noise fields ($clusterTime, lsid, signature,
   * $readPreference, txnNumber), document sequences counted rather than copied, masked strings replaced.
   */
  input: string;
  /**
   * `unknown`: the command was forwarded but its reply never came (the connection or the gateway went away): it
   * may have run. `errorMessage` says why the outcome is unknown. `refused`: the account's policy refused it
   * (`policy` names the rule, `errorMessage` what the client was told).
   */
  outcome: 'ok' | 'error' | 'unknown' | 'refused';
  /** The rule of the account's policy that refused the command (outcome `refused`): it never reached the database. */
  policy?: PolicyRule;
  /** Documents returned: first batch of a cursor, or the nextBatch of a getMore. */
  documents?: number;
  /** Documents affected, where the reply says (`n`, `nModified`). */
  affected?: number;
  errorCode?: number;
  errorName?: string;
  errorMessage?: string;
  durationMs: number;
  /** Set when `input` was cut to fit the event size cap. */
  truncated?: boolean;
  /** What a reviewer should look at in this command (deterministic detectors at the gateway, gateway/risk/). */
  flags?: RiskFlag[];
}

export const RISK_FLAG_IDS = Object.freeze([
  /** dropDatabase, drop (a collection or view), dropIndexes of every index. */
  'drop',
  /** delete or update of every document: an empty filter with no limit (delete) or multi (update). */
  'empty-filter-write',
  /** users and roles created, changed, granted or dropped. */
  'user-admin',
  /** server-side JavaScript: $where, $function, $accumulator, mapReduce. */
  'server-js',
  /** $out or $merge into another database than the command's. */
  'cross-database-write',
  /** a client tried to authenticate (refused by the gateway: it logs in itself). */
  'auth-attempt',
  /** the account's policy refused the command. */
  'policy-refusal',
] as const);
export type RiskFlagId = (typeof RISK_FLAG_IDS)[number];
export type RiskSeverity = 'high' | 'medium' | 'low';

export interface RiskFlag {
  id: RiskFlagId;
  severity: RiskSeverity;
  /** One line for the reviewer, e.g. `dropDatabase shop`, `deleteMany with an empty filter on orders`. */
  detail: string;
}

/** A client connection opened, closed, or failed to reach the database. */
export interface ConnectionEvent extends EventBase {
  kind: 'connection';
  phase: 'opened' | 'closed' | 'failed';
  /**
   * For `failed` and `closed`: what went wrong, as the client was told it (internal addresses replaced by the
   * resource's placeholder; never a secret). For `opened`: the client's driver and app name.
   */
  message?: string;
  /**
   * For admins only: the full technical reason, which may name internal hosts and ports. The control plane
   * removes it from what it serves to anyone but an admin of the session's project.
   */
  detail?: string;
  /** For `closed`: commands seen on the connection, including handshake and monitoring traffic not logged line by line. */
  commands?: number;
  /** For `closed`: handshake and monitoring commands (hello, isMaster, ping on monitor connections) counted but not logged. */
  handshakeCommands?: number;
  bytesFromClient?: number;
  bytesToClient?: number;
}

export type SessionLogEvent = CommandEvent | ConnectionEvent;

/** An event as stored and served by the control plane. */
export type StoredSessionLogEvent = SessionLogEvent & { sessionId: string; seq: number };
