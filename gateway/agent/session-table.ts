/**
 * What the gateway holds per session, in memory only: the target (with the account's password) while the session
 * is active, its live client connections, its counters, and a timer at expiresAt that ends it here even if the
 * control plane never says so. Ended sessions are remembered for a while so that a late stream is refused.
 */
import type { SessionTunnelPins } from '../../protocol/gateway-channel';
import type { MongoTarget } from '../../protocol/target';
import { CommandPolicy } from '../policy/command-policy';

export interface LiveConnection {
  /** Ends the connection: closes its stream and its upstream connection (`reason` is for the log). */
  end(reason: string): void;
}

interface SessionEntry {
  target?: MongoTarget;
  /** The session certificate its streams must present (from the same credentials message as the target). */
  tunnel?: SessionTunnelPins;
  /** The target's policy, compiled once; every connection of the session asks for it on each command. */
  policy?: CommandPolicy;
  expiresAt?: Date;
  timer?: NodeJS.Timeout;
  connections: Set<LiveConnection>;
  totalConnections: number;
  commands: number;
  /** Counters as last reported, to send stats only on change. */
  reported: string;
}

/** Longest setTimeout Node accepts; longer waits are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;
const REMEMBER_ENDED_MS = 24 * 60 * 60 * 1000;

export class SessionTable {
  private readonly sessions = new Map<string, SessionEntry>();
  private readonly ended = new Map<string, number>();

  constructor(private readonly onExpired: (sessionId: string) => void) {}

  /** Why a new connection for this session must be refused, or undefined. */
  refusal(sessionId: string): string | undefined {
    if (this.ended.has(sessionId)) return 'the session has ended';
    const expiresAt = this.sessions.get(sessionId)?.expiresAt;
    if (expiresAt && expiresAt.getTime() <= Date.now()) return 'the session has expired';
    return undefined;
  }

  target(sessionId: string): MongoTarget | undefined {
    return this.sessions.get(sessionId)?.target;
  }

  /** What a stream of this session must present inside its TLS; undefined for a session without a certificate. */
  tunnel(sessionId: string): SessionTunnelPins | undefined {
    return this.sessions.get(sessionId)?.tunnel;
  }

  /** The session's current policy (undefined: none received yet, or the default, which allows everything). */
  policy(sessionId: string): CommandPolicy | undefined {
    return this.sessions.get(sessionId)?.policy;
  }

  /** Sessions with a target in memory, among `sessionIds` (those whose policy must be fetched again). */
  known(sessionIds: readonly string[]): string[] {
    return sessionIds.filter((id) => this.sessions.get(id)?.target !== undefined && !this.ended.has(id));
  }

  /** Keeps the target until the session ends or expiresAt passes (then onExpired runs). */
  setTarget(sessionId: string, target: MongoTarget, expiresAt: Date, tunnel?: SessionTunnelPins): void {
    const entry = this.entry(sessionId);
    entry.target = target;
    entry.tunnel = tunnel;
    entry.policy = target.policy ? new CommandPolicy(target.policy, target.accountName ?? 'of this session') : undefined;
    entry.expiresAt = expiresAt;
    clearTimeout(entry.timer);
    const arm = () => {
      const wait = expiresAt.getTime() - Date.now();
      if (wait <= 0) {
        this.onExpired(sessionId);
        return;
      }
      entry.timer = setTimeout(arm, Math.min(wait, MAX_TIMER_MS));
      entry.timer.unref();
    };
    arm();
  }

  addConnection(sessionId: string, connection: LiveConnection): void {
    const entry = this.entry(sessionId);
    entry.connections.add(connection);
    entry.totalConnections++;
  }

  removeConnection(sessionId: string, connection: LiveConnection): void {
    this.sessions.get(sessionId)?.connections.delete(connection);
  }

  countCommand(sessionId: string): void {
    const entry = this.sessions.get(sessionId);
    if (entry) entry.commands++;
  }

  /**
   * Ends the session here: closes its connections, drops its credentials, refuses it from now on. False when it had
   * ended already (every control-plane replica says so; the first one did the work).
   */
  end(sessionId: string, reason: string): boolean {
    if (this.ended.has(sessionId)) return false;
    this.ended.set(sessionId, Date.now());
    const entry = this.sessions.get(sessionId);
    if (!entry) return true;
    clearTimeout(entry.timer);
    entry.target = undefined;
    for (const connection of [...entry.connections]) connection.end(reason);
    // Keep the counters until the last connection's events are in; the entry is small.
    this.pruneEnded();
    return true;
  }

  /**
   * Forgets the targets of sessions with no live connection, so that their next stream asks the control plane
   * again (after a reconnect the session may have ended while this gateway could not hear it).
   */
  dropIdleTargets(): void {
    for (const entry of this.sessions.values()) {
      if (entry.connections.size > 0 || !entry.target) continue;
      clearTimeout(entry.timer);
      entry.target = undefined;
    }
  }

  /** Closes every connection of every session (the gateway is stopping, or cannot record). */
  endAllConnections(reason: string): void {
    for (const entry of this.sessions.values()) for (const connection of [...entry.connections]) connection.end(reason);
  }

  /** Sessions whose counters changed since the last call, with those counters. */
  changedStats(): Array<{ sessionId: string; connections: number; commands: number }> {
    const changed: Array<{ sessionId: string; connections: number; commands: number }> = [];
    for (const [sessionId, entry] of this.sessions) {
      const key = `${entry.totalConnections}/${entry.commands}`;
      if (key === entry.reported) continue;
      entry.reported = key;
      changed.push({ sessionId, connections: entry.totalConnections, commands: entry.commands });
    }
    return changed;
  }

  /** Sessions whose target (credentials) this gateway holds. */
  get activeSessions(): number {
    let count = 0;
    for (const [id, entry] of this.sessions) if (entry.target && !this.ended.has(id)) count++;
    return count;
  }

  get activeConnections(): number {
    let count = 0;
    for (const entry of this.sessions.values()) count += entry.connections.size;
    return count;
  }

  clear(): void {
    for (const entry of this.sessions.values()) {
      clearTimeout(entry.timer);
      entry.target = undefined;
    }
    this.sessions.clear();
  }

  private entry(sessionId: string): SessionEntry {
    let entry = this.sessions.get(sessionId);
    if (!entry) {
      entry = { connections: new Set(), totalConnections: 0, commands: 0, reported: '0/0' };
      this.sessions.set(sessionId, entry);
    }
    return entry;
  }

  private pruneEnded(): void {
    const limit = Date.now() - REMEMBER_ENDED_MS;
    for (const [sessionId, at] of this.ended) {
      if (at >= limit) break;
      this.ended.delete(sessionId);
      const entry = this.sessions.get(sessionId);
      if (entry && entry.connections.size === 0) this.sessions.delete(sessionId);
    }
  }
}
