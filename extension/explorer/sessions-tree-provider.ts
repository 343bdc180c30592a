import * as vscode from 'vscode';
import type { SessionDto } from '../../protocol/api';
import { describeError } from '../commands/describe-error';
import type { ConnectionController } from '../connection/connection-controller';
import { isUnreachable } from '../connection/unreachable';
import type { SessionBook } from '../sessions/session-book';
import { MessageTreeItem } from './message-tree-item';
import { SessionTreeItem } from './session-tree-item';

export type SessionsNode = SessionTreeItem | MessageTreeItem;

/** What the view shows of an outage: the control plane is away, and which sessions this window gave up on meanwhile. */
export interface OutageState {
  readonly reconnecting: boolean;
  isSettling(sessionId: string): boolean;
}

const NO_OUTAGE: OutageState = { reconnecting: false, isSettling: () => false };

/** How many ended sessions the view lists below the active ones. */
export const RECENT_SESSIONS = 25;
/** While the view is visible, it reloads from the server this often. */
const RELOAD_SECONDS = 15;

/**
 * The Sessions view: active sessions first (their duration and time left count on while the view is open), then the
 * most recent ended ones. Members see their own; admins see everyone's, with the user's email. While the control
 * plane cannot be reached, the sessions last loaded stay, active ones marked as reconnecting.
 */
export class SessionsTreeProvider implements vscode.TreeDataProvider<SessionsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<SessionsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: Array<{ dispose(): void }> = [];
  /** Sessions as last loaded; a tick re-renders them with a fresh duration without asking the server. */
  private cached: SessionDto[] | undefined;
  /** The last successful load, shown while the control plane cannot be reached. */
  private lastLoaded: SessionDto[] | undefined;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: ConnectionController,
    private readonly book: SessionBook,
    private readonly outage: OutageState = NO_OUTAGE,
  ) {
    this.subscriptions.push(
      connection.onDidChange(() => {
        // Another user's (or no user's) sessions must never stand in for this one's.
        this.lastLoaded = undefined;
        this.refresh();
      }),
      book.onDidChange(() => this.refresh()),
    );
  }

  /** Reloads from the server. */
  refresh(): void {
    this.cached = undefined;
    this.changed.fire(undefined);
  }

  /**
   * Reloads every RELOAD_SECONDS while the view is visible (sessions started or ended elsewhere show up, and active
   * sessions' durations and time left count on). Not more often: each redraw replaces the rows, and a click that lands
   * on a row being replaced is lost (VS Code drops the command of a replaced tree item).
   */
  setLiveUpdates(on: boolean): void {
    if (on && !this.ticker) {
      this.ticker = setInterval(() => this.refresh(), RELOAD_SECONDS * 1000);
      this.ticker.unref?.();
    } else if (!on && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  getTreeItem(element: SessionsNode): vscode.TreeItem {
    return element;
  }

  async getChildren(element?: SessionsNode): Promise<SessionsNode[]> {
    if (element || !this.connection.signedIn) return [];
    let sessions = this.cached;
    let unreachable = false;
    if (!sessions) {
      try {
        sessions = this.cached = this.lastLoaded = await this.load();
      } catch (error) {
        await this.connection.handleError(error);
        if (!this.connection.signedIn) return [];
        if (!isUnreachable(error) || !this.lastLoaded) return [new MessageTreeItem(`Could not load sessions: ${describeError(error)}`)];
        sessions = this.lastLoaded;
        unreachable = true;
      }
    }
    const me = this.connection.current?.me.user.id;
    const now = new Date();
    const reconnecting = unreachable || this.outage.reconnecting;
    return sessions.map(
      (session) =>
        new SessionTreeItem(session, this.book.get(session.id), {
          admin: this.connection.isAdmin(session.projectId),
          showUser: this.connection.isAdmin(session.projectId) && session.userId !== me,
          own: session.userId === me,
          now,
          reconnecting,
          settling: this.outage.isSettling(session.id),
        }),
    );
  }

  private async load(): Promise<SessionDto[]> {
    const client = this.connection.requireClient();
    const byId = new Map<string, SessionDto>();
    for (const project of this.connection.projects) {
      const [active, recent] = await Promise.all([
        client.listSessions({ projectId: project.id, state: 'active', limit: 100 }),
        client.listSessions({ projectId: project.id, limit: RECENT_SESSIONS + 10 }),
      ]);
      for (const session of [...active.items, ...recent.items]) byId.set(session.id, session);
    }
    return orderSessions([...byId.values()]);
  }

  dispose(): void {
    this.setLiveUpdates(false);
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}

/** Active first, newest first within each group; at most RECENT_SESSIONS ended ones. */
export function orderSessions(sessions: SessionDto[]): SessionDto[] {
  const newestFirst = (a: SessionDto, b: SessionDto) => Date.parse(b.createdAt) - Date.parse(a.createdAt);
  const isActive = (s: SessionDto) => s.state === 'active' || s.state === 'starting';
  const active = sessions.filter(isActive).sort(newestFirst);
  const ended = sessions
    .filter((s) => !isActive(s))
    .sort(newestFirst)
    .slice(0, RECENT_SESSIONS);
  return [...active, ...ended];
}
