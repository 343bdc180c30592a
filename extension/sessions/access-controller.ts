import * as vscode from 'vscode';
import type { AccessMfaChallenge, AccessRequestDto } from '../../protocol/api';
import { AccessRequestClosed } from '../../proxy-core/access-approval';
import { displayMessage, displayText } from '../../proxy-core/display-text';
import { describeError } from '../commands/describe-error';
import type { ConnectionController } from '../connection/connection-controller';
import { authenticatorAppNeededText, needsAuthenticatorApp } from '../mfa/mfa-errors';
import type { Settings } from '../storage/settings';
import type { MongoshTerminalController } from '../terminals/mongosh-terminal-controller';
import { AccessProgress } from './access-progress';
import type { AccessEnded, StartAccessLike } from './access-types';
import { describeSessionEnd } from './end-reasons';
import { type LocalSession, SessionBook } from './session-book';
import { sessionLabel } from './session-label';

export interface AccessTarget {
  accountId: string;
  accountName: string;
  resourceName: string;
  /** The account's policy asks for a reason: the user is asked before the session is requested. */
  reasonRequired?: boolean;
  /**
   * The account's policy asks for an admin's approval: the user is asked for a reason (unless they hold a grant
   * already), then Access waits for the decision, cancellably, and goes on as usual once approved.
   */
  approvalRequired?: boolean;
}

/** An Access waiting for an admin's decision. */
interface ApprovalWait {
  request: AccessRequestDto;
  abort: AbortController;
  /** Settles once the Access ends, however (approved and started, denied, withdrawn). */
  settled: Promise<unknown>;
}

/**
 * Starting, using and ending this window's sessions: reason and MFA prompts, waiting for an admin's approval,
 * progress while connecting, mongosh terminals (through the terminal controller), the terminal-close rule, and
 * telling the user when and why a session ended.
 */
export class AccessController implements vscode.Disposable {
  private readonly ended = new vscode.EventEmitter<LocalSession>();
  /** Fires after a session of this window ended, for whatever reason (the trees refresh on it). */
  readonly onDidEndSession = this.ended.event;
  private readonly requestsChanged = new vscode.EventEmitter<void>();
  /** Fires when an Access opened an access request, and when its wait ended (the Access Requests view reloads). */
  readonly onDidChangeAccessRequests = this.requestsChanged.event;
  /** Accesses waiting for approval, by account id: one per account, the server keeps one request per user and account. */
  private readonly waits = new Map<string, ApprovalWait>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Set while Sign Out ends the sessions, so their terminals say so. */
  private signingOut = false;

  constructor(
    private readonly connection: ConnectionController,
    private readonly book: SessionBook,
    private readonly settings: Settings,
    private readonly startAccess: StartAccessLike,
    private readonly clientAgent: string,
    private readonly terminals: MongoshTerminalController,
  ) {
    this.disposables.push(vscode.window.onDidCloseTerminal((terminal) => this.terminalClosed(terminal)));
  }

  /**
   * Access: reuses this window's session for the account if there is one (showing its terminal, or opening one), else
   * starts one and opens mongosh on it. `openTerminal: false`: a terminal's Reconnect, which brings its own.
   */
  async access(target: AccessTarget, options: { openTerminal?: boolean } = {}): Promise<LocalSession | undefined> {
    const openTerminal = options.openTerminal ?? true;
    const existing = this.book.findByAccount(target.accountId);
    if (existing) {
      if (openTerminal && !this.terminals.focus(existing)) this.openMongosh(existing);
      return existing;
    }
    const signedIn = this.connection.current;
    if (!signedIn) throw new Error('you are not signed in; run "Portcullis: Sign In" first');
    const label = sessionLabel(target);
    const waiting = this.waits.get(target.accountId);
    if (waiting) {
      void vscode.window.showInformationMessage(
        `Portcullis: already waiting for an admin to approve access to ${label} (request ${waiting.request.id}).`,
      );
      return undefined;
    }
    let reason: string | undefined;
    if (target.approvalRequired ? !(await this.holdsGrant(target.accountId)) : target.reasonRequired) {
      reason = await this.askReason(label, target.approvalRequired ?? false);
      if (reason === undefined) return undefined;
    }
    let handle: Awaited<ReturnType<StartAccessLike>>;
    for (;;) {
      const abort = new AbortController();
      const progress = new AccessProgress(label, () => abort.abort());
      let wait: ApprovalWait | undefined;
      let settle!: () => void;
      const settled = new Promise<void>((resolve) => {
        settle = resolve;
      });
      try {
        progress.connecting();
        handle = await this.startAccess({
          server: signedIn.server,
          token: signedIn.token,
          ca: signedIn.client.ca,
          accountId: target.accountId,
          clientAgent: this.clientAgent,
          reason,
          onMfa: (challenge, context) => {
            // Asked after an approval too: the wait is over by then.
            progress.connecting();
            return this.askMfaCode(label, challenge, context.error);
          },
          onApprovalPending: (request) => {
            wait = { request, abort, settled };
            this.waits.set(target.accountId, wait);
            progress.waiting(request);
            this.requestsChanged.fire();
          },
          signal: abort.signal,
        });
        break;
      } catch (error) {
        // The account started to require a reason (or approval), or a grant ended, after the tree was drawn: ask now, once.
        if (reason === undefined && (error as { code?: string }).code === 'reason_required') {
          reason = await this.askReason(label, target.approvalRequired || /approval/.test((error as Error).message));
          if (reason === undefined) return undefined;
          continue;
        }
        await this.connection.handleError(error);
        if (isCancellation(error)) return undefined;
        if (error instanceof AccessRequestClosed) {
          // Withdrawn (Cancel, sign-out) or cancelled (from the Access Requests view): the user's own doing.
          if (error.state === 'withdrawn' || error.state === 'cancelled') {
            void vscode.window.showInformationMessage(`Portcullis: ${describeError(error)}.`);
            return undefined;
          }
          throw new Error(`no access to ${label}: ${describeError(error)}`);
        }
        // The server's MFA set-up message names the CLI: said here in the extension's words (with a button, see showCommandError).
        if (needsAuthenticatorApp(error)) throw new Error(authenticatorAppNeededText(error, label), { cause: error });
        throw new Error(`could not start a session on ${label}: ${describeError(error)}`, { cause: error });
      } finally {
        settle();
        progress.done();
        if (wait && this.waits.get(target.accountId) === wait) {
          this.waits.delete(target.accountId);
          this.requestsChanged.fire();
        }
      }
    }
    const session = SessionBook.fromHandle(handle, { resourceName: target.resourceName, accountName: target.accountName });
    handle.on('ended', (ended: AccessEnded) => this.sessionEnded(session, ended));
    this.book.add(session);
    if (openTerminal) this.openMongosh(session);
    return session;
  }

  /** Why the user needs the account (its policy requires a reason, or approval); undefined when they cancel. */
  private async askReason(label: string, forApproval: boolean): Promise<string | undefined> {
    const reason = await vscode.window.showInputBox({
      title: `Portcullis: access to ${label}`,
      prompt: forApproval
        ? "This account requires an admin's approval. Why do you need it? (sent to the project's admins with your request, and stored with the session)"
        : 'This account requires a reason for access. Why do you need it? (stored with the session and shown with its log)',
      placeHolder: 'e.g. INC-1234: check the stuck orders',
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim() ? undefined : 'Say why you need access (or press Escape to cancel).'),
    });
    return reason?.trim() || undefined;
  }

  /** Opens another mongosh terminal on a running session, or explains why it cannot. */
  openMongosh(session: LocalSession): vscode.Terminal | undefined {
    return this.terminals.open(session);
  }

  /** Ends a session of this window: the local listener closes and the server ends the session. */
  async stop(session: LocalSession): Promise<void> {
    if (!this.book.get(session.id)) return;
    session.stopping = true;
    try {
      await session.handle.stop();
    } finally {
      // A handle that stopped without an `ended` event must not leave the session listed.
      this.sessionEnded(session, { reason: 'stopped', message: 'the session was stopped' });
    }
  }

  /**
   * On deactivate and sign-out: ends every session of this window, each independently, and withdraws the requests
   * Accesses wait on (while the token still works), so that no admin approves access nobody waits for.
   */
  async stopAll(cause?: 'signed_out'): Promise<void> {
    const waits = [...this.waits.values()];
    for (const wait of waits) wait.abort.abort();
    this.signingOut = cause === 'signed_out';
    try {
      await Promise.allSettled([...this.book.list().map((session) => this.stop(session)), ...waits.map((wait) => wait.settled)]);
    } finally {
      this.signingOut = false;
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.ended.dispose();
    this.requestsChanged.dispose();
  }

  /** Whether the user holds a current grant on the account: its sessions start at once, with the grant's reason. */
  private async holdsGrant(accountId: string): Promise<boolean> {
    try {
      const approved = await this.connection.requireClient().listAccessRequests({ mine: true, state: 'approved', limit: 100 });
      const now = Date.now();
      return approved.items.some((r) => r.accountId === accountId && (!r.grantExpiresAt || Date.parse(r.grantExpiresAt) > now));
    } catch {
      // Not knowing only costs a question: the reason is asked for, and the server still applies the grant.
      return false;
    }
  }

  private async askMfaCode(label: string, challenge: AccessMfaChallenge, error: string | undefined): Promise<string | undefined> {
    const where =
      challenge.method === 'email'
        ? `Enter the code sent to ${challenge.sentTo ? displayText(challenge.sentTo) : 'your email address'}`
        : 'Enter the code from your authenticator app';
    const code = await vscode.window.showInputBox({
      title: `Portcullis: verification code for ${label}`,
      prompt: error ? `${displayMessage(error)}. ${where}.` : `${where}.`,
      placeHolder: '123456',
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim() === '' ? (error ? displayMessage(error) : 'enter the code') : undefined),
    });
    const trimmed = code?.trim();
    return trimmed ? trimmed : undefined;
  }

  private sessionEnded(session: LocalSession, ended: AccessEnded): void {
    if (!this.book.remove(session.id)) return;
    const notice = describeSessionEnd(sessionLabel(session), ended, session.stopping);
    // A quiet session's end is told together with the others it ended (Sign Out).
    if (!session.quiet) {
      if (notice.severity === 'warning') void vscode.window.showWarningMessage(notice.text);
      else void vscode.window.showInformationMessage(notice.text);
    }
    this.terminals.sessionEnded(session, ended, { stoppedHere: session.stopping, signedOut: this.signingOut });
    this.ended.fire(session);
  }

  private async terminalClosed(terminal: vscode.Terminal): Promise<void> {
    const session = this.book.findByTerminal(terminal);
    if (!session) return;
    session.terminals.delete(terminal);
    this.book.touch();
    if (session.terminals.size > 0 || session.stopping) return;
    const rule = this.settings.endSessionOnTerminalClose;
    if (rule === 'never') return;
    if (rule === 'ask') {
      const choice = await vscode.window.showInformationMessage(
        `The mongosh terminal for ${sessionLabel(session)} closed. End the session?`,
        'End Session',
        'Keep Running',
      );
      if (choice !== 'End Session') return;
    }
    try {
      await this.stop(session);
    } catch (error) {
      void vscode.window.showErrorMessage(`Portcullis: could not end the session: ${describeError(error)}`);
    }
  }
}

function isCancellation(error: unknown): boolean {
  const e = error as { name?: string } | undefined;
  return e?.name === 'AbortError' || /^access cancelled/.test((error as Error | undefined)?.message ?? '');
}
