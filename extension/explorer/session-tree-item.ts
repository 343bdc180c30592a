import * as vscode from 'vscode';
import type { SessionDto } from '../../protocol/api';
import { displayText } from '../../proxy-core/display-text';
import { EXTENSION_COMMANDS } from '../commands/index';
import { formatDuration } from '../logs/duration-format';
import { describeState, sessionDurationSeconds } from '../logs/session-log-format';
import type { LocalSession } from '../sessions/session-book';
import { sessionLabel } from '../sessions/session-label';
import { sessionContextValue } from './context-values';

/** A session in the Sessions view; selecting it opens its log. */
export class SessionTreeItem extends vscode.TreeItem {
  readonly kind = 'session';

  constructor(
    readonly session: SessionDto,
    readonly localSession: LocalSession | undefined,
    options: { admin: boolean; showUser: boolean; now?: Date },
  ) {
    const label = sessionLabel(session);
    super(label, vscode.TreeItemCollapsibleState.None);
    this.id = `session:${session.id}`;
    const active = session.state === 'active' || session.state === 'starting';
    const parts = [describeState(session), formatDuration(sessionDurationSeconds(session, options.now))];
    if (options.showUser) parts.push(displayText(session.userEmail));
    this.description = parts.join(' · ');
    this.iconPath = active
      ? new vscode.ThemeIcon('circle-filled', new vscode.ThemeColor('charts.green'))
      : session.state === 'ended'
        ? new vscode.ThemeIcon('circle-outline')
        : new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('list.warningForeground'));
    this.tooltip = new vscode.MarkdownString(
      [
        `**${label}**`,
        `${displayText(session.userEmail)} · ${describeState(session)}`,
        `Started ${session.startedAt ?? session.createdAt}${session.endedAt ? `, ended ${session.endedAt}` : ''}`,
        `${session.commands} commands on ${session.connections} connections`,
        'Select to open its log.',
      ].join('\n\n'),
    );
    const kind = localSession ? 'local' : active ? 'active' : 'ended';
    this.contextValue = sessionContextValue(kind, options.admin && active);
    this.command = { command: EXTENSION_COMMANDS.openSessionLog, title: 'Open Session Log', arguments: [this] };
  }
}
