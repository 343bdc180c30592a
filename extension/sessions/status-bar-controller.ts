import * as vscode from 'vscode';
import { copyConnectionUri } from '../commands/clipboard';
import { CONTEXT_KEYS, EXTENSION_COMMANDS } from '../commands/index';
import type { ConnectionController } from '../connection/connection-controller';
import type { ReachabilityController } from '../connection/reachability-controller';
import { formatDuration } from '../logs/duration-format';
import { formatExpiry, formatLocalTime, formatTimeLeft } from '../logs/local-time';
import type { AccessController } from './access-controller';
import type { LocalSession, SessionBook } from './session-book';
import { sessionLabel } from './session-label';

const STOP_BUTTON_TOOLTIP = 'Stop Session';
/** The time left in the tooltip is redrawn this often while sessions run. */
const TICK_MS = 15_000;

/**
 * The status bar: the count of this window's sessions, or "reconnecting…" while the control plane cannot be
 * reached; its tooltip says who is signed in where, and each session's address, expiry and time left. Clicking it
 * opens the list of sessions.
 */
export class StatusBarController implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: Array<{ dispose(): void }> = [];
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly book: SessionBook,
    private readonly access: AccessController,
    private readonly connection: ConnectionController,
    private readonly reachability: ReachabilityController,
  ) {
    this.item = vscode.window.createStatusBarItem('portcullis.sessions', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Portcullis Sessions';
    this.item.command = EXTENSION_COMMANDS.showActiveSessions;
    this.subscriptions.push(
      book.onDidChange(() => this.update()),
      connection.onDidChange(() => this.update()),
      reachability.onDidChange(() => this.update()),
    );
    this.update();
  }

  update(now: Date = new Date()): void {
    const count = this.book.size;
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.hasLocalSessions, count > 0);
    this.tick(count > 0);
    const state = this.reachability.state;
    const reconnecting = state.kind === 'reconnecting' && this.connection.signedIn;
    if (count === 0 && !reconnecting) {
      this.item.hide();
      return;
    }
    const sessions = count === 0 ? 'Portcullis' : `${count} Portcullis ${count === 1 ? 'session' : 'sessions'}`;
    this.item.text = reconnecting ? `$(sync~spin) ${sessions}: reconnecting…` : `$(database) ${sessions}`;
    this.item.backgroundColor = reconnecting ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const lines: string[] = [];
    if (this.connection.identity) lines.push(`Signed in as ${this.connection.identity}`);
    if (state.kind === 'reconnecting') {
      lines.push(
        `Reconnecting: the server has not answered since ${formatLocalTime(state.since)} (${state.error}). ` +
          'New connections fail until it is back; a session ends here if it stays away too long, and the server is told when it returns.',
      );
    }
    for (const s of this.book.list()) {
      lines.push(`${sessionLabel(s)}: ${s.uri} · expires ${formatExpiry(s.expiresAt, now)}`);
    }
    if (count > 0) lines.push('Click to list or stop them.');
    this.item.tooltip = lines.join('\n');
    this.item.show();
  }

  /** Lists this window's sessions; the Stop button ends one, choosing one offers what to do with it. */
  async showActiveSessions(): Promise<void> {
    const sessions = this.book.list();
    if (sessions.length === 0) {
      void vscode.window.showInformationMessage('No Portcullis sessions are running in this window.');
      return;
    }
    type Item = vscode.QuickPickItem & { session: LocalSession };
    const picker = vscode.window.createQuickPick<Item>();
    picker.title = 'Portcullis sessions in this window';
    picker.placeholder = 'Choose a session to open mongosh, copy its address or stop it';
    const now = new Date();
    picker.items = sessions.map((session) => ({
      session,
      label: sessionLabel(session),
      description: `${formatDuration((now.getTime() - session.startedAt.getTime()) / 1000)} · ${formatTimeLeft(session.expiresAt, now)} · ${session.uri}`,
      buttons: [{ iconPath: new vscode.ThemeIcon('debug-stop'), tooltip: STOP_BUTTON_TOOLTIP }],
    }));
    const chosen = await new Promise<LocalSession | undefined>((resolve) => {
      picker.onDidTriggerItemButton(async (event) => {
        picker.hide();
        await this.access.stop(event.item.session);
        resolve(undefined);
      });
      picker.onDidAccept(() => {
        const item = picker.selectedItems[0];
        picker.hide();
        resolve(item?.session);
      });
      picker.onDidHide(() => resolve(undefined));
      picker.show();
    });
    picker.dispose();
    if (!chosen) return;
    const action = await vscode.window.showQuickPick(['Open mongosh', 'Copy Connection URI', STOP_BUTTON_TOOLTIP], {
      title: sessionLabel(chosen),
    });
    if (action === 'Open mongosh') this.access.openMongosh(chosen);
    else if (action === 'Copy Connection URI') await copyConnectionUri(chosen.uri);
    else if (action === STOP_BUTTON_TOOLTIP) await this.access.stop(chosen);
  }

  dispose(): void {
    this.tick(false);
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }

  /** Keeps the time left in the tooltip current while sessions run. */
  private tick(on: boolean): void {
    if (on && !this.ticker) {
      this.ticker = setInterval(() => this.update(), TICK_MS);
      this.ticker.unref?.();
    } else if (!on && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }
}
