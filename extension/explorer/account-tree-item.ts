import * as vscode from 'vscode';
import type { AccountDto, ResourceDto } from '../../protocol/api';
import { displayText } from '../../proxy-core/display-text';
import { EXTENSION_COMMANDS } from '../commands/index';
import type { LocalSession } from '../sessions/session-book';
import { accountContextValue } from './context-values';

/**
 * A database account of a resource: what Access connects as. Shows MFA, approval and a running session of this window.
 * Names and the description are admins' free text: escaped (displayText) wherever they are shown.
 */
export class AccountTreeItem extends vscode.TreeItem {
  readonly kind = 'account';

  constructor(
    readonly account: AccountDto,
    readonly resource: ResourceDto,
    readonly localSession: LocalSession | undefined,
    admin: boolean,
  ) {
    // With a running session here it expands to the databases it can read (extension/browse); otherwise a leaf.
    super(displayText(account.name), localSession ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    this.id = `account:${account.id}`;
    const parts: string[] = [];
    if (localSession) parts.push('session active');
    if (account.mfaRequired) parts.push('MFA required');
    if (account.policy?.approvalRequired) parts.push('approval required');
    if (account.policy?.mode === 'read-only') parts.push('read-only');
    if (account.description) parts.push(displayText(account.description));
    this.description = parts.join(' · ');
    this.iconPath = localSession
      ? new vscode.ThemeIcon('vm-running', new vscode.ThemeColor('charts.green'))
      : new vscode.ThemeIcon(account.mfaRequired ? 'lock' : 'account');
    this.tooltip = new vscode.MarkdownString(
      [
        `**${displayText(resource.name)} / ${displayText(account.name)}**`,
        `Database user: ${displayText(account.username)}`,
        account.mfaRequired ? 'A verification code is asked for at Access.' : '',
        `Longest session: ${Math.round(account.maxSessionDurationSeconds / 60)} min`,
        account.policy?.mode === 'read-only' ? 'Read-only: reads, cursors, metadata and explain.' : '',
        account.policy?.databases.length ? `Databases: ${account.policy.databases.map((d) => displayText(d)).join(', ')}` : '',
        account.policy?.denied.length ? `Refused: ${account.policy.denied.map((d) => displayText(d)).join(', ')}` : '',
        account.policy?.approvalRequired
          ? "Approval required: Access asks for a reason, sends it to the project's admins as a request, and waits until one of them approves it."
          : account.policy?.reasonRequired
            ? 'A reason is asked for at Access.'
            : '',
        localSession ? `Running here at \`${localSession.uri}\`; expand to browse its databases.` : '',
        'Enter or a click runs Access.',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
    this.contextValue = accountContextValue(localSession !== undefined, admin);
    // The item's default action (Enter, a click) is what an account is for.
    this.command = { command: EXTENSION_COMMANDS.access, title: 'Access', arguments: [this] };
  }
}
