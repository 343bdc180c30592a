import type { Duplex } from 'node:stream';
import type { CommandEvent, SessionLogEvent } from '../../protocol/session-log';
import type { MongoTarget } from '../../protocol/target';
import type { CommandPolicy } from '../policy/command-policy';
import type { SrvResolver } from '../upstream/srv';
import { ClientSession } from './client-session';
import type { GatewayLimits, PendingBytesBudget } from './limits';

export interface ServeClientOptions {
  target: MongoTarget;
  /**
   * The session's policy as it is now (asked before each command; undefined allows everything). Default: the
   * target's policy, fixed for the connection.
   */
  policy?: () => CommandPolicy | undefined;
  connectionId: string;
  /**
   * CommandEvents and ConnectionEvents (opened, closed, failed); never throws back into the engine. A command's
   * event carries `started`, what onCommandStart returned for it.
   */
  onEvent(event: SessionLogEvent, started?: number): void;
  /**
   * A logged command is about to be forwarded (outcome not known yet): write it ahead. Throwing refuses the
   * command and ends the connection (nothing runs unrecorded). Handshake and monitoring commands never come here.
   */
  onCommandStart?(event: Omit<CommandEvent, 'outcome' | 'durationMs'>): number;
  maskPatterns?: RegExp[];
  /** Default 8192. */
  maxEventBytes?: number;
  /** For `mongodb+srv://` (and, when it has resolve4, host names); default: the system resolver. */
  resolver?: SrvResolver;
  connectTimeoutMs?: number;
  /** Defaults: DEFAULT_GATEWAY_LIMITS. */
  limits?: Partial<GatewayLimits>;
  /** The full reason of a failure whose client-facing message hides addresses (for the gateway's own log). */
  onDetail?(detail: string): void;
  /** Shared by every connection of one gateway; default: one budget per process. */
  pendingBudget?: PendingBytesBudget;
}

export interface ServedClientStats {
  commands: number;
  handshakeCommands: number;
  bytesFromClient: number;
  bytesToClient: number;
}

export interface ServedClient {
  /** Resolves once both sides are closed and the closed event (if any) was emitted. */
  readonly done: Promise<void>;
  close(reason?: string): void;
  stats(): ServedClientStats;
}

/**
 * Serves one client byte stream (a TCP socket, or a relay stream) as one MongoDB connection: the upstream is
 * opened and authenticated as the target's account first, then messages are relayed and recorded.
 */
export function serveClient(client: Duplex, options: ServeClientOptions): ServedClient {
  const session = new ClientSession(client, options);
  session.start();
  return {
    done: session.done,
    close: (reason) => session.close(reason),
    stats: () => session.stats(),
  };
}
