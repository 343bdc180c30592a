/**
 * The Portcullis sign-in as a VS Code authentication provider (id `portcullis`): the signed-in account shows under
 * Accounts, and Sign Out there signs out of Portcullis the way the Sign Out command does (asking first when it ends
 * this window's sessions). One account at a time, as the extension talks to one server. Another extension that asks
 * for this provider's session gets the Portcullis token only after VS Code has asked the user to allow it.
 */
import * as vscode from 'vscode';
import type { ConnectionController, SignedIn } from './connection-controller';

export const AUTH_PROVIDER_ID = 'portcullis';
export const AUTH_PROVIDER_LABEL = 'Portcullis';

export class PortcullisAuthProvider implements vscode.AuthenticationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>();
  readonly onDidChangeSessions = this.changed.event;
  /** The session VS Code was last told about. */
  private shown: vscode.AuthenticationSession | undefined;
  private readonly watch: vscode.Disposable;

  constructor(
    private readonly connection: ConnectionController,
    /** Signs out after the user confirmed; false when they did not. */
    private readonly signOut: () => Promise<boolean>,
  ) {
    this.shown = sessionOf(connection.current, connection.identity);
    this.watch = connection.onDidChange(() => this.update());
  }

  async getSessions(): Promise<vscode.AuthenticationSession[]> {
    return this.shown ? [this.shown] : [];
  }

  /** "Sign in to use Portcullis" (from Accounts, or another extension asking): the usual Sign In steps. */
  async createSession(): Promise<vscode.AuthenticationSession> {
    if (!(await this.connection.signIn()) || !this.shown) throw new Error('Portcullis: the sign-in did not finish');
    return this.shown;
  }

  async removeSession(sessionId: string): Promise<void> {
    if (this.shown?.id === sessionId) await this.signOut();
  }

  dispose(): void {
    this.watch.dispose();
    this.changed.dispose();
  }

  private update(): void {
    const before = this.shown;
    const next = sessionOf(this.connection.current, this.connection.identity);
    this.shown = next;
    const event = {
      added: next && next.id !== before?.id ? [next] : [],
      removed: before && before.id !== next?.id ? [before] : [],
      changed: before && next && before.id === next.id && before.accessToken !== next.accessToken ? [next] : [],
    };
    if (event.added.length + event.removed.length + event.changed.length > 0) this.changed.fire(event);
  }
}

function sessionOf(state: SignedIn | undefined, identity: string | undefined): vscode.AuthenticationSession | undefined {
  if (!state) return undefined;
  const { user } = state.me;
  return {
    id: `${state.server}#${user.id}`,
    accessToken: state.token,
    account: { id: `${state.server}#${user.id}`, label: identity ?? user.email },
    scopes: [],
  };
}
