import * as vscode from 'vscode';
import type { SessionDto } from '../../protocol/api';
import { describeError } from '../commands/describe-error';
import type { ConnectionController } from '../connection/connection-controller';
import type { SessionBook } from '../sessions/session-book';
import { MessageTreeItem } from './message-tree-item';
import { SessionTreeItem } from './session-tree-item';

export type SessionsNode = SessionTreeItem | MessageTreeItem;

/** How many ended sessions the view lists below the active ones. */
export const RECENT_SESSIONS = 25;
/** While the view is visible, it reloads from the server this often. */
const RELOAD_SECONDS = 15;

/**
 * The Sessions view: active sessions first (their duration counts up while the view is open), then the
 * most recent ended ones. Members see their own; admins see everyone's, with the user's email.
 */
export class SessionsTreeProvider implements vscode.TreeDataProvider<SessionsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<SessionsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: Array<{ dispose(): void }> = [];
  /** Sessions as last loaded; a tick re-renders them with a fresh duration without asking the server. */
  private cached: SessionDto[] | undefined;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: ConnectionController,
    private readonly book: SessionBook,
  ) {
    this.subscriptions.push(
      connection.onDidChange(() => this.refresh()),
      book.onDidChange(() => this.refresh()),
    );
  }

  /** Reloads from the server. */
  refresh(): void {
    this.cached = undefined;
    this.changed.fire(undefined);
  }

  /** Re-renders live durations; started by the view becoming visible, stopped when it hides. */
  setLiveUpdates(on: boolean): void {
    if (on && !this.ticker) {
      let ticks = 0;
      this.ticker = setInterval(() => {
        // Sessions started or ended elsewhere (the CLI, an admin's terminate) show up within RELOAD_SECONDS.
        if (++ticks % RELOAD_SECONDS === 0) this.refresh();
        else if (this.cached?.some((s) => s.state === 'active')) this.changed.fire(undefined);
      }, 1000);
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
    try {
      if (!this.cached) this.cached = await this.load();
    } catch (error) {
      await this.connection.handleError(error);
      if (!this.connection.signedIn) return [];
      return [new MessageTreeItem(`Could not load sessions: ${describeError(error)}`)];
    }
    const me = this.connection.current?.me.user.id;
    const now = new Date();
    return this.cached.map(
      (session) =>
        new SessionTreeItem(session, this.book.get(session.id), {
          admin: this.connection.isAdmin(session.projectId),
          showUser: this.connection.isAdmin(session.projectId) && session.userId !== me,
          now,
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
