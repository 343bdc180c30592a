import type { SessionDto } from '../../protocol/api';
import type { AccessHandleLike } from './access-types';

/** A session this window started and still runs a local listener for. */
export interface LocalSession {
  id: string;
  resourceId: string;
  resourceName: string;
  accountId: string;
  accountName: string;
  /** Local MongoDB address without credentials, e.g. mongodb://127.0.0.1:PORT/?directConnection=true */
  uri: string;
  startedAt: Date;
  expiresAt: Date;
  handle: AccessHandleLike;
  /** Terminals running mongosh on this session (opaque here; the terminal controller owns them). */
  terminals: Set<object>;
  /** Set once the user asked to stop it, so its end is reported as expected rather than as a surprise. */
  stopping: boolean;
  /** Its end is told in one message with others (Sign Out says what it ended), not in a notification of its own. */
  quiet?: boolean;
}

type Listener = () => void;

/**
 * The sessions this window runs, by id. No VS Code types: the access controller, trees and status bar all
 * read it and subscribe to its changes.
 */
export class SessionBook {
  private readonly sessions = new Map<string, LocalSession>();
  private readonly listeners = new Set<Listener>();

  static fromHandle(handle: AccessHandleLike, names: { resourceName?: string; accountName?: string } = {}): LocalSession {
    const session: SessionDto = handle.session;
    return {
      id: session.id,
      resourceId: session.resourceId,
      resourceName: names.resourceName ?? session.resourceName,
      accountId: session.accountId,
      accountName: names.accountName ?? session.accountName,
      uri: handle.uri,
      startedAt: new Date(session.startedAt ?? session.createdAt),
      expiresAt: handle.expiresAt,
      handle,
      terminals: new Set(),
      stopping: false,
    };
  }

  add(session: LocalSession): void {
    this.sessions.set(session.id, session);
    this.emit();
  }

  /** Removes and returns the session; undefined when it was not (or no longer) there. */
  remove(id: string): LocalSession | undefined {
    const session = this.sessions.get(id);
    if (!session) return undefined;
    this.sessions.delete(id);
    this.emit();
    return session;
  }

  get(id: string): LocalSession | undefined {
    return this.sessions.get(id);
  }

  findByAccount(accountId: string): LocalSession | undefined {
    for (const session of this.sessions.values()) if (session.accountId === accountId) return session;
    return undefined;
  }

  findByTerminal(terminal: object): LocalSession | undefined {
    for (const session of this.sessions.values()) if (session.terminals.has(terminal)) return session;
    return undefined;
  }

  /** Oldest first. */
  list(): LocalSession[] {
    return [...this.sessions.values()].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
  }

  get size(): number {
    return this.sessions.size;
  }

  onDidChange(listener: Listener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** For changes inside a session (a terminal added or closed) that listeners should see. */
  touch(): void {
    this.emit();
  }

  private emit(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
