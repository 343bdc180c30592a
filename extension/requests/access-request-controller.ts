import * as vscode from 'vscode';
import type { AccessRequestDto } from '../../protocol/api';
import { displayText } from '../../proxy-core/display-text';
import { describeError } from '../commands/describe-error';
import type { ConnectionController } from '../connection/connection-controller';
import type { AccessRequestRelation, AccessRequestTreeItem } from '../explorer/access-request-tree-item';
import { formatSpan } from '../logs/duration-format';
import { sessionLabel } from '../sessions/session-label';

/** The server keeps at most this much of a note. */
const NOTE_MAX_LENGTH = 500;

/**
 * Deciding on access requests (Approve, Deny: admins other than the requester) and withdrawing one's own (Cancel),
 * from the Access Requests view. A note is asked for where the server records one; Escape there changes nothing.
 * The server decides who may do what (self-approval, a request no longer pending): its message is shown as is.
 */
export class AccessRequestController {
  constructor(
    private readonly connection: ConnectionController,
    private readonly changed: () => void,
  ) {}

  async approve(item: unknown): Promise<void> {
    const request = requireRequest(item, 'decide');
    const who = displayText(request.requesterEmail);
    const note = await askNote(
      `Approve ${who}'s access to ${sessionLabel(request)}`,
      `Reason given: ${displayText(request.reason)}. Add a note for ${who} (optional), then press Enter to approve for ${formatSpan(request.durationSeconds)}.`,
    );
    if (note === undefined) return;
    const approved = await this.decide('approve', request, () =>
      this.connection.requireClient().approveAccessRequest(request.id, note ? { note } : {}),
    );
    const until = approved.grantExpiresAt ? ` until ${new Date(approved.grantExpiresAt).toLocaleString()}` : '';
    void vscode.window.showInformationMessage(`Approved ${who}'s access to ${sessionLabel(request)}${until}.`);
  }

  async deny(item: unknown): Promise<void> {
    const request = requireRequest(item, 'decide');
    const who = displayText(request.requesterEmail);
    const note = await askNote(
      `Deny ${who}'s access to ${sessionLabel(request)}`,
      `Reason given: ${displayText(request.reason)}. Say why, or what to use instead (optional; ${who} sees it), then press Enter to deny.`,
    );
    if (note === undefined) return;
    await this.decide('deny', request, () => this.connection.requireClient().denyAccessRequest(request.id, note ? { note } : {}));
    void vscode.window.showInformationMessage(`Denied ${who}'s access to ${sessionLabel(request)}.`);
  }

  /** Withdraws one's own pending request; an Access waiting on it in this window stops waiting. */
  async cancel(item: unknown): Promise<void> {
    const request = requireRequest(item, 'own');
    await this.decide('cancel', request, () => this.connection.requireClient().cancelAccessRequest(request.id));
    void vscode.window.showInformationMessage(`Your access request for ${sessionLabel(request)} is cancelled.`);
  }

  /** Runs one decision; the view reloads afterwards whatever happened (a refused decision often means it changed). */
  private async decide(
    action: 'approve' | 'deny' | 'cancel',
    request: AccessRequestDto,
    call: () => Promise<AccessRequestDto>,
  ): Promise<AccessRequestDto> {
    try {
      return await call();
    } catch (error) {
      await this.connection.handleError(error);
      throw new Error(`could not ${action} the access request for ${sessionLabel(request)} (${request.id}): ${describeError(error)}`);
    } finally {
      this.changed();
    }
  }
}

/** The note, '' for none; undefined when the user pressed Escape. */
async function askNote(title: string, prompt: string): Promise<string | undefined> {
  const note = await vscode.window.showInputBox({
    title,
    prompt,
    placeHolder: 'Note (optional)',
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim().length > NOTE_MAX_LENGTH ? `Keep the note under ${NOTE_MAX_LENGTH} characters.` : undefined),
  });
  return note?.trim();
}

function requireRequest(item: unknown, relation: Exclude<AccessRequestRelation, 'other'>): AccessRequestDto {
  const candidate = item as Partial<AccessRequestTreeItem> | undefined;
  if (candidate?.kind !== 'accessRequest' || !candidate.request) {
    throw new Error('choose a request in the Portcullis Access Requests view first');
  }
  if (candidate.relation !== relation) {
    throw new Error(
      relation === 'decide'
        ? 'only an admin of the project other than the requester can approve or deny this request'
        : 'only the requester can cancel a request; an admin denies it instead',
    );
  }
  return candidate.request;
}
