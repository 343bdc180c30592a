import * as vscode from 'vscode';
import { CONTEXT_KEYS, EXTENSION_COMMANDS } from '../commands/index';
import { formatDuration } from '../logs/duration-format';
import type { AccessController } from './access-controller';
import type { LocalSession, SessionBook } from './session-book';
import { sessionLabel } from './session-label';

const STOP_BUTTON_TOOLTIP = 'Stop Session';

/** The status bar count of this window's sessions, and the quick pick it opens. */
export class StatusBarController implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly book: SessionBook,
    private readonly access: AccessController,
  ) {
    this.item = vscode.window.createStatusBarItem('portcullis.sessions', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Portcullis Sessions';
    this.item.command = EXTENSION_COMMANDS.showActiveSessions;
    this.subscription = book.onDidChange(() => this.update());
    this.update();
  }

  update(): void {
    const count = this.book.size;
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.hasLocalSessions, count > 0);
    if (count === 0) {
      this.item.hide();
      return;
    }
    this.item.text = `$(database) ${count} Portcullis ${count === 1 ? 'session' : 'sessions'}`;
    this.item.tooltip = `${this.book
      .list()
      .map((s) => sessionLabel(s))
      .join('\n')}\nClick to list or stop them.`;
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
    picker.items = sessions.map((session) => ({
      session,
      label: sessionLabel(session),
      description: `${formatDuration((Date.now() - session.startedAt.getTime()) / 1000)} · ${session.uri}`,
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
    else if (action === 'Copy Connection URI') await vscode.env.clipboard.writeText(chosen.uri);
    else if (action === STOP_BUTTON_TOOLTIP) await this.access.stop(chosen);
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
