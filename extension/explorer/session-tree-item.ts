import * as vscode from 'vscode';
import type { SessionDto } from '../../protocol/api';
import { displayText } from '../../proxy-core/display-text';
import { EXTENSION_COMMANDS } from '../commands/index';
import { formatDuration, formatSpan } from '../logs/duration-format';
import { formatExpiry, formatLocalDateTime, formatTimeLeft } from '../logs/local-time';
import { describeState, sessionDurationSeconds } from '../logs/session-log-format';
import type { LocalSession } from '../sessions/session-book';
import { sessionLabel } from '../sessions/session-label';
import { sessionContextValue } from './context-values';

export interface SessionTreeItemOptions {
  admin: boolean;
  showUser: boolean;
  /** The signed-in user's own session: Stop is offered wherever it runs. */
  own?: boolean;
  now?: Date;
  /** The control plane cannot be reached: an active session's state is not known right now. */
  reconnecting?: boolean;
  /** This window gave the session up during an outage; the server is told once it is back. */
  settling?: boolean;
}

/** A session in the Sessions view; selecting it opens its log. */
export class SessionTreeItem extends vscode.TreeItem {
  readonly kind = 'session';

  constructor(
    readonly session: SessionDto,
    readonly localSession: LocalSession | undefined,
    options: SessionTreeItemOptions,
  ) {
    const label = sessionLabel(session);
    super(label, vscode.TreeItemCollapsibleState.None);
    this.id = `session:${session.id}`;
    const now = options.now ?? new Date();
    const active = session.state === 'active' || session.state === 'starting';
    const state = !active
      ? describeState(session)
      : options.settling
        ? 'ending: the server is told once it is back'
        : options.reconnecting
          ? 'reconnecting…'
          : describeState(session);
    // Running: to the unit that matters, like the time left, since the view redraws only every few seconds.
    const duration = sessionDurationSeconds(session, now);
    const parts = [state, active ? formatSpan(duration) : formatDuration(duration)];
    if (active && !options.settling) parts.push(formatTimeLeft(session.expiresAt, now));
    if (options.showUser) parts.push(displayText(session.userEmail));
    this.description = parts.join(' · ');
    this.iconPath = options.settling
      ? new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('list.warningForeground'))
      : active && options.reconnecting
        ? new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('list.warningForeground'))
        : active
          ? new vscode.ThemeIcon('circle-filled', new vscode.ThemeColor('charts.green'))
          : session.state === 'ended'
            ? new vscode.ThemeIcon('circle-outline')
            : new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('list.warningForeground'));
    const elsewhere = active && !localSession && options.own;
    this.tooltip = new vscode.MarkdownString(
      [
        `**${label}**`,
        `${displayText(session.userEmail)} · ${state}`,
        `Started ${formatLocalDateTime(session.startedAt ?? session.createdAt)}${session.endedAt ? `, ended ${formatLocalDateTime(session.endedAt)}` : ''}`,
        active ? `Expires ${formatExpiry(session.expiresAt, now)}` : '',
        `${session.commands} commands on ${session.connections} connections`,
        localSession ? `Running in this window at \`${localSession.uri}\`` : '',
        elsewhere ? 'Running elsewhere (the CLI, another window or machine): Stop ends it there too.' : '',
        'Select to open its log.',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
    const kind = localSession ? 'local' : active && !options.settling ? 'active' : 'ended';
    this.contextValue = sessionContextValue(kind, options.admin && active, options.own ?? false);
    this.command = { command: EXTENSION_COMMANDS.openSessionLog, title: 'Open Session Log', arguments: [this] };
  }
}
