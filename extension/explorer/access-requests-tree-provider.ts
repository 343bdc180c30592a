import * as vscode from 'vscode';
import type { AccessRequestDto } from '../../protocol/api';
import { describeError } from '../commands/describe-error';
import type { ConnectionController } from '../connection/connection-controller';
import { isUnreachable } from '../connection/unreachable';
import { type AccessRequestRelation, AccessRequestTreeItem } from './access-request-tree-item';
import { MessageTreeItem } from './message-tree-item';
import { NoticeTreeItem } from './notice-tree-item';

export type AccessRequestsNode = AccessRequestTreeItem | MessageTreeItem | NoticeTreeItem;

/** How many of the user's own requests (newest first) the view lists besides the pending ones. */
export const RECENT_OWN_REQUESTS = 10;
/** Reload while the view is visible; less often while hidden, so the badge still tells an admin that someone waits. */
const RELOAD_VISIBLE_MS = 15_000;
const RELOAD_HIDDEN_MS = 60_000;
/** More pending requests than this in one listing is beyond what an inbox can show usefully. */
const PENDING_LIMIT = 100;

type Loaded =
  | { decide: AccessRequestDto[]; own: AccessRequestDto[]; error?: undefined; at: Date }
  | { error: string; decide?: undefined; own?: undefined; at: Date };

/** The part of a TreeView the provider drives: the count badge, and whether it is on screen. */
export interface RequestsViewLike {
  badge?: vscode.ViewBadge | undefined;
  readonly visible: boolean;
}

/**
 * The Access Requests view, the inbox: pending requests admins may decide (other users' requests in the projects
 * they administer: Approve, Deny) first, then the user's own pending and recent requests (Cancel while pending).
 * The badge counts the requests waiting for this user's decision; it is kept current on a timer while signed in.
 */
export class AccessRequestsTreeProvider implements vscode.TreeDataProvider<AccessRequestsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<AccessRequestsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: Array<{ dispose(): void }> = [];
  private loaded: Loaded | undefined;
  /** Only the newest load is kept: a refresh after an action must not be overwritten by an older answer. */
  private generation = 0;
  private view: RequestsViewLike | undefined;
  private visible = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly connection: ConnectionController) {
    this.subscriptions.push(
      connection.onDidChange(() => {
        this.schedule();
        this.refresh();
      }),
    );
  }

  /** Binds the view whose badge this provider keeps, and starts the timer. */
  attach(view: RequestsViewLike): void {
    this.view = view;
    this.setVisible(view.visible);
  }

  /** Reloads at once when the view comes into sight, then on the faster timer. */
  setVisible(visible: boolean): void {
    const appeared = visible && !this.visible;
    this.visible = visible;
    this.schedule();
    if (appeared) this.refresh();
  }

  /** Reloads from the server, then redraws (also the badge, even while the view is hidden). */
  refresh(): void {
    void this.load().then(() => this.changed.fire(undefined));
  }

  /** The requests waiting for this user's decision, as last loaded. */
  get waitingForDecision(): number {
    return this.loaded?.decide?.length ?? 0;
  }

  getTreeItem(element: AccessRequestsNode): vscode.TreeItem {
    return element;
  }

  async getChildren(element?: AccessRequestsNode): Promise<AccessRequestsNode[]> {
    if (element || !this.connection.signedIn) return [];
    const loaded = this.loaded ?? (await this.load());
    if (!this.connection.signedIn) return [];
    if (loaded.error !== undefined) return [new MessageTreeItem(`Could not load access requests: ${loaded.error}`)];
    const items = [
      ...loaded.decide.map((r) => new AccessRequestTreeItem(r, 'decide', loaded.at)),
      ...loaded.own.map((r) => new AccessRequestTreeItem(r, 'own', loaded.at)),
    ];
    return items.length > 0 ? items : [new NoticeTreeItem('No access requests waiting.')];
  }

  /** What the user may do with a request, from their roles: decide it, cancel it, or only look. */
  private relationOf(request: AccessRequestDto): AccessRequestRelation {
    if (request.requesterUserId === this.connection.current?.me.user.id) return 'own';
    return request.state === 'pending' && this.connection.isAdmin(request.projectId) ? 'decide' : 'other';
  }

  dispose(): void {
    this.stopTimer();
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }

  private async load(): Promise<Loaded> {
    const generation = ++this.generation;
    const loaded = await this.fetch();
    if (generation === this.generation) {
      this.loaded = loaded;
      this.updateBadge();
    }
    return this.loaded ?? loaded;
  }

  private async fetch(): Promise<Loaded> {
    const at = new Date();
    if (!this.connection.signedIn) return { decide: [], own: [], at };
    try {
      const client = this.connection.requireClient();
      // Pending: admins get their projects' requests, members their own; mine: the user's recent ones, decided too.
      const [pending, mine] = await Promise.all([
        client.listAccessRequests({ state: 'pending', limit: PENDING_LIMIT }),
        client.listAccessRequests({ mine: true, limit: RECENT_OWN_REQUESTS }),
      ]);
      const decide = pending.items.filter((r) => this.relationOf(r) === 'decide');
      const own = new Map<string, AccessRequestDto>();
      for (const r of [...pending.items, ...mine.items]) if (this.relationOf(r) === 'own') own.set(r.id, r);
      return { decide, own: orderOwn([...own.values()]), at };
    } catch (error) {
      await this.connection.handleError(error);
      // The server is away: the requests last loaded stay (the view's message says it reconnects).
      if (isUnreachable(error) && this.loaded?.decide) return this.loaded;
      return { error: describeError(error), at };
    }
  }

  private updateBadge(): void {
    if (!this.view) return;
    const count = this.waitingForDecision;
    this.view.badge =
      count > 0
        ? { value: count, tooltip: `${count} access ${count === 1 ? 'request waits' : 'requests wait'} for your decision` }
        : undefined;
  }

  private schedule(): void {
    this.stopTimer();
    if (!this.connection.signedIn || !this.view) return;
    this.timer = setInterval(() => this.refresh(), this.visible ? RELOAD_VISIBLE_MS : RELOAD_HIDDEN_MS);
    this.timer.unref?.();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Pending first, then newest first. */
function orderOwn(requests: AccessRequestDto[]): AccessRequestDto[] {
  const rank = (r: AccessRequestDto) => (r.state === 'pending' ? 0 : 1);
  return requests.sort((a, b) => rank(a) - rank(b) || Date.parse(b.createdAt) - Date.parse(a.createdAt));
}
