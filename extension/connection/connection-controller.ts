import * as vscode from 'vscode';
import type { MeDto, ProjectDto } from '../../protocol/api';
import { ApiClient, type ApiClientOptions, isApiError, normalizeServerUrl } from '../../proxy-core/api-client';
import { displayText } from '../../proxy-core/display-text';
import { readCaFile } from '../../proxy-core/server-trust';
import { describeError } from '../commands/describe-error';
import { CONTEXT_KEYS, EXTENSION_COMMANDS } from '../commands/index';
import type { Settings } from '../storage/settings';
import type { TokenStorage } from '../storage/token-storage';
import { SsoRedirects, signInWithSso } from './sso-sign-in';
import { isUnreachable } from './unreachable';

export interface SignedIn {
  /** Normalized server address (no trailing slash, no /api/v1). */
  server: string;
  token: string;
  client: ApiClient;
  me: MeDto;
}

export type ApiClientFactory = (options: ApiClientOptions) => ApiClient;

/** What the user typed at the last sign-in that failed: offered again, so a retry needs only the password. */
interface SignInAnswers {
  server: string;
  email: string;
}

/**
 * Who is signed in to which server. The token comes from and goes to SecretStorage only; everything else
 * asks this controller for the ApiClient and the caller's projects and roles.
 */
export class ConnectionController implements vscode.Disposable {
  private state: SignedIn | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly unreachable = new vscode.EventEmitter<unknown>();
  /** A request failed because the control plane could not be reached (ReachabilityController listens). */
  readonly onDidSeeUnreachable = this.unreachable.event;
  private lastAnswers: SignInAnswers | undefined;
  /** The extension's URI handler: single sign-on comes back through it (registered by PortcullisController). */
  readonly ssoRedirects = new SsoRedirects();

  constructor(
    private readonly settings: Settings,
    private readonly tokens: TokenStorage,
    private readonly userAgent: string,
    private readonly createClient: ApiClientFactory = (options) => new ApiClient(options),
  ) {}

  /**
   * The CA of the portcullis.caFile setting (read each time a client is made, so a changed setting applies at the next
   * sign-in); VS Code's extension host does not honour NODE_EXTRA_CA_CERTS per extension.
   */
  private trust(): { ca?: string; caHint: string } {
    const file = this.settings.caFile;
    return { caHint: 'the portcullis.caFile setting', ...(file ? { ca: readCaFile(file) } : {}) };
  }

  get current(): SignedIn | undefined {
    return this.state;
  }

  get signedIn(): boolean {
    return this.state !== undefined;
  }

  /** The API client of the signed-in user; throws a readable error when signed out. */
  requireClient(): ApiClient {
    if (!this.state) throw new Error('you are not signed in; run "Portcullis: Sign In" first');
    return this.state.client;
  }

  get projects(): ProjectDto[] {
    return this.state?.me.projects ?? [];
  }

  isAdmin(projectId: string): boolean {
    return this.projects.some((p) => p.id === projectId && p.role === 'admin');
  }

  get adminProjects(): ProjectDto[] {
    return this.projects.filter((p) => p.role === 'admin');
  }

  /** On activation: picks up a token stored by an earlier sign-in, if the server still accepts it. */
  async restore(): Promise<void> {
    const server = this.safeServer(this.settings.serverUrl);
    const token = server ? await this.tokens.get(server) : undefined;
    if (!server || !token) {
      await this.setState(undefined);
      return;
    }
    const client = this.createClient({ server, token, userAgent: this.userAgent, ...this.trust() });
    try {
      const me = await client.me();
      await this.setState({ server, token, client, me });
    } catch (error) {
      if (isApiError(error, 'unauthenticated')) {
        await this.tokens.delete(server);
        void vscode.window
          .showWarningMessage('Your Portcullis sign-in has expired. Sign in again to see your resources.', 'Sign In')
          .then((choice) => choice && vscode.commands.executeCommand('portcullis.signIn'));
      } else {
        void vscode.window.showWarningMessage(`Portcullis: could not restore your sign-in: ${describeError(error)}`);
      }
      await this.setState(undefined);
    }
  }

  /** Asks for server, email and password; returns whether the user is now signed in. */
  async signIn(): Promise<boolean> {
    const serverInput = await vscode.window.showInputBox({
      title: 'Portcullis: Sign In (1/3)',
      prompt: 'Address of your Portcullis server',
      placeHolder: 'https://portcullis.example.com',
      value: this.lastAnswers?.server ?? this.settings.serverUrl,
      ignoreFocusOut: true,
      validateInput: (value) => {
        try {
          normalizeServerUrl(value);
          return undefined;
        } catch (error) {
          return describeError(error);
        }
      },
    });
    if (serverInput === undefined) return false;
    const server = normalizeServerUrl(serverInput);
    const client = this.createClient({ server, userAgent: this.userAgent, ...this.trust() });
    const sso = await this.ssoName(client);
    if (sso) {
      const choice = await vscode.window.showQuickPick([`Sign in with ${sso}`, 'Sign in with email and password'], {
        title: 'Portcullis: Sign In (2/3)',
        placeHolder: `How do you sign in to ${server}?`,
        ignoreFocusOut: true,
      });
      if (choice === undefined) return false;
      if (choice !== 'Sign in with email and password') {
        this.lastAnswers = { server, email: this.lastAnswers?.email ?? '' };
        return this.finishSignIn(server, client, `with ${displayText(sso)}`, () => signInWithSso(client, sso, this.ssoRedirects));
      }
    }
    const email = await vscode.window.showInputBox({
      title: 'Portcullis: Sign In (2/3)',
      prompt: `Email address of your account on ${server}`,
      placeHolder: 'you@example.com',
      value: this.lastAnswers?.email,
      ignoreFocusOut: true,
      validateInput: (value) => (/^\S+@\S+$/.test(value.trim()) ? undefined : 'enter an email address such as you@example.com'),
    });
    if (email === undefined) return false;
    this.lastAnswers = { server, email: email.trim() };
    const password = await vscode.window.showInputBox({
      title: 'Portcullis: Sign In (3/3)',
      prompt: `Password for ${email.trim()}`,
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value.length > 0 ? undefined : 'enter your password'),
    });
    if (password === undefined) return false;
    return this.finishSignIn(server, client, `as ${displayText(email.trim())}`, () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Signing in to ${server}…` }, () =>
        client.login({ email: email.trim(), password }),
      ),
    );
  }

  /** The identity provider's name when the server offers single sign-on; a server from before SSO has no such route. */
  private async ssoName(client: ApiClient): Promise<string | undefined> {
    try {
      const methods = await client.signInMethods();
      return methods.sso.enabled ? methods.sso.name : undefined;
    } catch {
      // Unknown here (an old server, or unreachable): the password sign-in says what is wrong, if anything.
      return undefined;
    }
  }

  /** Runs a sign-in (password or SSO), then stores the token and shows the signed-in state, or says why not. */
  private async finishSignIn(server: string, client: ApiClient, who: string, login: () => Thenable<{ token: string }>): Promise<boolean> {
    let signedIn: SignedIn;
    try {
      const { token } = await login();
      client.setToken(token);
      signedIn = { server, token, client, me: await client.me() };
    } catch (error) {
      // The server and email stay filled in for the retry; the password is never kept.
      void vscode.window
        .showErrorMessage(`Portcullis: could not sign in to ${server} ${who}: ${describeError(error)}`, 'Try Again')
        .then((choice) => choice && vscode.commands.executeCommand(EXTENSION_COMMANDS.signIn));
      return false;
    }
    await this.tokens.store(server, signedIn.token);
    if (this.settings.serverUrl !== server) await this.settings.setServerUrl(server);
    await this.setState(signedIn);
    void vscode.window.showInformationMessage(`Signed in to Portcullis at ${server} as ${displayText(signedIn.me.user.email)}.`);
    return true;
  }

  /** `ada@example.com on portcullis.example.com`: who is signed in where, for tooltips and view titles. */
  get identity(): string | undefined {
    const state = this.state;
    if (!state) return undefined;
    return `${displayText(state.me.user.email)} on ${hostOf(state.server)}`;
  }

  /** Revokes the token at the server (best effort: a server that is down cannot keep us signed in) and forgets it. */
  async signOut(): Promise<void> {
    const state = this.state;
    if (!state) return;
    let revokeError: unknown;
    try {
      await state.client.logout();
    } catch (error) {
      if (!isApiError(error, 'unauthenticated')) revokeError = error;
    }
    await this.tokens.delete(state.server);
    await this.setState(undefined);
    if (revokeError) {
      void vscode.window.showWarningMessage(
        `Signed out here, but the server could not revoke the token (${describeError(revokeError)}); it expires on its own.`,
      );
    }
  }

  /** Re-reads the caller's projects and roles (roles can change while signed in). */
  async reload(): Promise<void> {
    const state = this.state;
    if (!state) return;
    try {
      const me = await state.client.me();
      await this.setState({ ...state, me });
    } catch (error) {
      await this.handleError(error);
      throw error;
    }
  }

  /** A request failed: if the token is no longer accepted, drop it and show the signed-out state. */
  async handleError(error: unknown): Promise<void> {
    if (isUnreachable(error) && this.state) this.unreachable.fire(error);
    if (!isApiError(error, 'unauthenticated') || !this.state) return;
    await this.tokens.delete(this.state.server);
    await this.setState(undefined);
    void vscode.window.showWarningMessage('Your Portcullis sign-in is no longer valid. Sign in again.');
  }

  dispose(): void {
    this.changed.dispose();
    this.unreachable.dispose();
  }

  private safeServer(value: string): string | undefined {
    if (!value) return undefined;
    try {
      return normalizeServerUrl(value);
    } catch {
      return undefined;
    }
  }

  private async setState(state: SignedIn | undefined): Promise<void> {
    this.state = state;
    await vscode.commands.executeCommand('setContext', CONTEXT_KEYS.signedIn, state !== undefined);
    await vscode.commands.executeCommand('setContext', CONTEXT_KEYS.isAdmin, this.adminProjects.length > 0);
    this.changed.fire();
  }
}

/** The server's host (and port), without the scheme: short enough for a view title. */
function hostOf(server: string): string {
  try {
    return new URL(server).host;
  } catch {
    return server;
  }
}
