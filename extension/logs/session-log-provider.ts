import * as vscode from 'vscode';
import type { SessionDto } from '../../protocol/api';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { collectPages } from '../../proxy-core/api-client';
import { displayText } from '../../proxy-core/display-text';
import { describeError } from '../commands/describe-error';
import type { ConnectionController } from '../connection/connection-controller';
import { isUnreachable } from '../connection/unreachable';
import { renderSessionLog } from './session-log-format';

export const SESSION_LOG_SCHEME = 'portcullis-log';

/** An open log of a running session is fetched again this often. */
export const LIVE_LOG_REFRESH_MS = 2_000;
/** The largest page the API serves: a long log in few requests. */
const LOG_PAGE_SIZE = 1000;

/** `portcullis-log:/ses_123/orders-db · reader.log`: the session id first, the rest is the tab title. */
export function sessionLogUri(sessionId: string, resourceName: string, accountName: string): vscode.Uri {
  const title = `${displayText(resourceName)} · ${displayText(accountName)}`.replace(/[/\\?#%]/g, '_');
  return vscode.Uri.from({ scheme: SESSION_LOG_SCHEME, path: `/${sessionId}/${title}.log` });
}

export function sessionIdOf(uri: vscode.Uri): string {
  const id = uri.path.split('/').filter(Boolean)[0];
  if (!id) throw new Error(`${uri.toString()} does not name a session`);
  return id;
}

/** A log document VS Code has asked for: what it showed last (for an outage), and its next refresh. */
interface Followed {
  uri: vscode.Uri;
  last?: { session: SessionDto; events: StoredSessionLogEvent[] };
  timer?: NodeJS.Timeout;
}

/** Whether a log document is still on screen, in some tab. */
export type IsShown = (uri: vscode.Uri) => boolean;

/**
 * Serves session logs as read-only documents, fetched from the server whenever VS Code asks: on opening, and on
 * `onDidChange`, which this provider fires every LIVE_LOG_REFRESH_MS while the session runs and its document is
 * shown, so the log follows the session and shows its final state once it ends. Opening a log again (`refresh`)
 * fetches it afresh. While the control plane cannot be reached, the last content stays, marked as such.
 */
export class SessionLogProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly followed = new Map<string, Followed>();
  private readonly subscriptions: Array<{ dispose(): void }> = [];

  constructor(
    private readonly connection: ConnectionController,
    private readonly isShown: IsShown = shownInATab,
    private readonly refreshMs = LIVE_LOG_REFRESH_MS,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidCloseTextDocument((document) => {
        if (document.uri.scheme === SESSION_LOG_SCHEME) this.unfollow(document.uri);
      }),
      connection.onDidChange(() => {
        if (!connection.signedIn) for (const key of [...this.followed.keys()]) this.unfollow(key);
      }),
    );
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const key = uri.toString();
    const followed = this.followed.get(key) ?? { uri };
    this.followed.set(key, followed);
    this.stopTimer(followed);
    const client = this.connection.requireClient();
    const sessionId = sessionIdOf(uri);
    try {
      const [session, events] = await Promise.all([
        client.getSession(sessionId),
        collectPages((cursor) => client.getSessionLogs(sessionId, { cursor, limit: LOG_PAGE_SIZE })),
      ]);
      followed.last = { session, events };
      const live = isRunning(session);
      if (live) this.scheduleRefresh(uri, followed);
      return renderSessionLog(session, events, { live });
    } catch (error) {
      await this.connection.handleError(error);
      if (!isUnreachable(error) || !followed.last) {
        if (!followed.last) this.followed.delete(key);
        throw error;
      }
      // The server is away: keep what was shown, say so, and keep trying while the session was running.
      if (isRunning(followed.last.session)) this.scheduleRefresh(uri, followed);
      return renderSessionLog(followed.last.session, followed.last.events, {
        live: isRunning(followed.last.session),
        stale: { at: new Date(), error: describeError(error) },
      });
    }
  }

  /** Fetches a log again (it was opened or clicked again): VS Code keeps a document's content until told. */
  refresh(uri: vscode.Uri): void {
    this.changed.fire(uri);
  }

  /** Refreshes every followed log now (the control plane is back). */
  refreshAll(): void {
    for (const followed of this.followed.values()) {
      if (!followed.timer) continue;
      this.stopTimer(followed);
      this.changed.fire(followed.uri);
    }
  }

  /** How many logs are followed live (for tests and the status of the timers). */
  get following(): number {
    return [...this.followed.values()].filter((f) => f.timer).length;
  }

  dispose(): void {
    for (const key of [...this.followed.keys()]) this.unfollow(key);
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }

  private scheduleRefresh(uri: vscode.Uri, followed: Followed): void {
    this.stopTimer(followed);
    followed.timer = setTimeout(() => {
      followed.timer = undefined;
      // A closed tab ends the following; opening the log again starts it anew.
      if (this.isShown(uri)) this.changed.fire(uri);
    }, this.refreshMs);
    followed.timer.unref?.();
  }

  private stopTimer(followed: Followed): void {
    if (followed.timer) clearTimeout(followed.timer);
    followed.timer = undefined;
  }

  private unfollow(uri: vscode.Uri | string): void {
    const key = uri.toString();
    const followed = this.followed.get(key);
    if (followed) this.stopTimer(followed);
    this.followed.delete(key);
  }
}

function isRunning(session: SessionDto): boolean {
  return session.state === 'active' || session.state === 'starting';
}

/** VS Code keeps a closed document a while; the tabs say whether anyone still looks at it. */
function shownInATab(uri: vscode.Uri): boolean {
  const key = uri.toString();
  return vscode.window.tabGroups.all.some((group) =>
    group.tabs.some((tab) => tab.input instanceof vscode.TabInputText && tab.input.uri.toString() === key),
  );
}
