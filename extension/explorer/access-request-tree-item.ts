import * as vscode from 'vscode';
import type { AccessRequestDto } from '../../protocol/api';
import { displayText } from '../../proxy-core/display-text';
import { formatSpan } from '../logs/duration-format';
import { sessionLabel } from '../sessions/session-label';
import { accessRequestContextValue } from './context-values';

/** What the signed-in user may do with a request: decide it (an admin, not the requester), or it is their own. */
export type AccessRequestRelation = 'decide' | 'own' | 'other';

/**
 * An access request in the Access Requests view: `resource / account`, with who asks and why (to decide on it) or
 * where one's own request stands. Emails, reasons and notes are users' free text: escaped (displayText), and the
 * tooltip is plain text so that a reason cannot render as a link.
 */
export class AccessRequestTreeItem extends vscode.TreeItem {
  readonly kind = 'accessRequest';

  constructor(
    readonly request: AccessRequestDto,
    readonly relation: AccessRequestRelation,
    now: Date = new Date(),
  ) {
    super(sessionLabel(request), vscode.TreeItemCollapsibleState.None);
    this.id = `accessRequest:${request.id}`;
    const age = `${formatSpan(secondsBetween(request.createdAt, now))} ago`;
    const requester = displayText(request.requesterEmail);
    this.description =
      relation === 'own'
        ? [ownState(request, now), age].filter(Boolean).join(' · ')
        : [requester, displayText(request.reason), formatSpan(request.durationSeconds), age].join(' · ');
    this.iconPath = iconOf(request, relation);
    this.tooltip = [
      `${sessionLabel(request)} (${request.id})`,
      `Requested by ${requester} ${age}, for ${formatSpan(request.durationSeconds)}`,
      `Reason: ${displayText(request.reason)}`,
      stateLine(request, now),
      relation === 'decide' ? 'Approve or Deny with the buttons on the row.' : '',
      relation === 'own' && request.state === 'pending' ? 'Cancel withdraws it.' : '',
    ]
      .filter(Boolean)
      .join('\n');
    this.contextValue = accessRequestContextValue(request.state, relation);
  }
}

function ownState(request: AccessRequestDto, now: Date): string {
  switch (request.state) {
    case 'pending':
      return 'waiting for approval';
    case 'approved':
      return request.grantExpiresAt ? `approved · grant ends in ${formatSpan(secondsBetween(now, request.grantExpiresAt))}` : 'approved';
    case 'denied':
      return `denied by ${displayText(request.decidedByEmail ?? 'an admin')}`;
    default:
      return request.state;
  }
}

function stateLine(request: AccessRequestDto, now: Date): string {
  const note = request.note ? `: ${displayText(request.note)}` : '';
  const by = displayText(request.decidedByEmail ?? 'an admin');
  switch (request.state) {
    case 'pending':
      return `Waiting for an admin; expires unanswered in ${formatSpan(secondsBetween(now, request.expiresAt))} (${localTime(request.expiresAt)})`;
    case 'approved': {
      const until = request.grantExpiresAt
        ? `; sessions may start until ${localTime(request.grantExpiresAt)} (in ${formatSpan(secondsBetween(now, request.grantExpiresAt))})`
        : '';
      return `Approved by ${by}${note}${until}; ${request.sessions} ${request.sessions === 1 ? 'session' : 'sessions'} so far`;
    }
    case 'denied':
      return `Denied by ${by}${note}`;
    case 'cancelled':
      return 'Cancelled by the requester';
    default:
      return request.decidedAt
        ? `Approved by ${by}${note}; the grant has ended`
        : `Expired at ${localTime(request.expiresAt)} before an admin answered`;
  }
}

function iconOf(request: AccessRequestDto, relation: AccessRequestRelation): vscode.ThemeIcon {
  if (relation === 'decide') return new vscode.ThemeIcon('bell-dot', new vscode.ThemeColor('charts.yellow'));
  switch (request.state) {
    case 'pending':
      return new vscode.ThemeIcon('watch');
    case 'approved':
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('charts.green'));
    case 'denied':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
    default:
      return new vscode.ThemeIcon('circle-slash');
  }
}

function secondsBetween(from: string | Date, to: string | Date): number {
  return (new Date(to).getTime() - new Date(from).getTime()) / 1000;
}

function localTime(iso: string): string {
  return new Date(iso).toLocaleString();
}
