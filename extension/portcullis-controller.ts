import { join } from 'node:path';
import * as vscode from 'vscode';
import { type AccountDto, API_ERROR_CODES, type ResourceDto, type SessionDto } from '../protocol/api';
import { collectPages, isApiError } from '../proxy-core/api-client';
import { displayText } from '../proxy-core/display-text';
import { AdminController } from './admin/admin-controller';
import { BrowseController } from './browse/browse-controller';
import type { BrowseDataSource } from './browse/browse-data-source';
import { copyConnectionString } from './browse/copy-connection-string';
import { copyWithConfirmation } from './commands/clipboard';
import { describeError } from './commands/describe-error';
import { CONTEXT_KEYS, EXTENSION_COMMANDS, VIEW_IDS } from './commands/index';
import { registerCommand, showCommandError } from './commands/register-command';
import { AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, PortcullisAuthProvider } from './connection/auth-provider';
import { type ApiClientFactory, ConnectionController } from './connection/connection-controller';
import { ReachabilityController } from './connection/reachability-controller';
import { signOutConfirmed } from './connection/sign-out';
import { AccessRequestsTreeProvider } from './explorer/access-requests-tree-provider';
import { AccountTreeItem } from './explorer/account-tree-item';
import { cliAccessCommand } from './explorer/cli-command';
import { ResourcesTreeProvider } from './explorer/resources-tree-provider';
import { SessionTreeItem } from './explorer/session-tree-item';
import { SessionsTreeProvider } from './explorer/sessions-tree-provider';
import { ViewStatusController } from './explorer/view-status-controller';
import { SESSION_LOG_SCHEME, SessionLogProvider, sessionLogUri } from './logs/session-log-provider';
import { TotpEnrollmentController } from './mfa/totp-enrollment-controller';
import { AccessRequestController } from './requests/access-request-controller';
import { AccessController, type AccessTarget } from './sessions/access-controller';
import type { StartAccessLike } from './sessions/access-types';
import { type LocalSession, SessionBook } from './sessions/session-book';
import { sessionLabel } from './sessions/session-label';
import { SessionSettler } from './sessions/session-settler';
import { StatusBarController } from './sessions/status-bar-controller';
import { Settings } from './storage/settings';
import { TokenStorage } from './storage/token-storage';
import { MongoshTerminalController } from './terminals/mongosh-terminal-controller';

export interface PortcullisDependencies {
  startAccess: StartAccessLike;
  createClient?: ApiClientFactory;
  /** What browsing reads through (tests pass one with a short idle timeout). */
  browseSource?: BrowseDataSource;
}

/**
 * The composition root: builds one controller per concern in dependency order with explicit arguments,
 * registers every command in one place, and tears everything down in reverse on deactivate.
 */
export class PortcullisController {
  readonly settings = new Settings();
  readonly book = new SessionBook();
  readonly connection: ConnectionController;
  readonly reachability: ReachabilityController;
  readonly settler: SessionSettler;
  readonly access: AccessController;
  readonly statusBar: StatusBarController;
  readonly resourcesTree: ResourcesTreeProvider;
  readonly sessionsTree: SessionsTreeProvider;
  readonly accessRequestsTree: AccessRequestsTreeProvider;
  readonly accessRequests: AccessRequestController;
  readonly logs: SessionLogProvider;
  readonly admin: AdminController;
  readonly totpEnrollment: TotpEnrollmentController;
  readonly browse: BrowseController;
  readonly terminals: MongoshTerminalController;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    dependencies: PortcullisDependencies,
  ) {
    const version = (context.extension?.packageJSON as { version?: string } | undefined)?.version ?? '0';
    const userAgent = `portcullis-vscode/${version} vscode/${vscode.version}`;
    this.connection = new ConnectionController(this.settings, new TokenStorage(context.secrets), userAgent, dependencies.createClient);
    this.reachability = new ReachabilityController(this.connection, () => this.book.size > 0);
    // How long a session outlives an unreachable control plane is the user's setting (proxy-core's default is 60 s).
    const startAccess: StartAccessLike = (options) =>
      dependencies.startAccess({ networkLostAfterMs: this.settings.reconnectTimeoutSeconds * 1000, ...options });
    // The wrapper each mongosh terminal runs is bundled beside extension.js (scripts/build.mjs).
    this.terminals = new MongoshTerminalController(this.settings, this.connection, this.book, join(__dirname, 'mongosh-terminal.js'), {
      reconnect: (target) => this.access.access(target, { openTerminal: false }),
      endSession: (session) => this.access.stop(session),
    });
    this.access = new AccessController(this.connection, this.book, this.settings, startAccess, userAgent, this.terminals);
    this.settler = new SessionSettler(this.book, this.connection, this.reachability);
    this.statusBar = new StatusBarController(this.book, this.access, this.connection, this.reachability);
    this.browse = new BrowseController(this.book, dependencies.browseSource);
    this.resourcesTree = new ResourcesTreeProvider(this.connection, this.book, this.browse.tree);
    const reachability = this.reachability;
    const settler = this.settler;
    this.sessionsTree = new SessionsTreeProvider(this.connection, this.book, {
      get reconnecting() {
        return reachability.reconnecting;
      },
      isSettling: (id) => settler.isSettling(id),
    });
    this.accessRequestsTree = new AccessRequestsTreeProvider(this.connection);
    this.accessRequests = new AccessRequestController(this.connection, () => this.accessRequestsTree.refresh());
    this.logs = new SessionLogProvider(this.connection);
    this.admin = new AdminController(this.connection, () => this.refreshTrees());
    this.totpEnrollment = new TotpEnrollmentController(this.connection);
    this.subscriptions.push(
      this.connection,
      this.reachability,
      this.settler,
      this.access,
      this.statusBar,
      this.resourcesTree,
      this.sessionsTree,
      this.accessRequestsTree,
      this.logs,
      this.totpEnrollment,
      this.browse,
      this.terminals,
    );
  }

  async activate(): Promise<void> {
    const sessionsView = vscode.window.createTreeView(VIEW_IDS.sessions, { treeDataProvider: this.sessionsTree });
    this.sessionsTree.setLiveUpdates(sessionsView.visible);
    const requestsView = vscode.window.createTreeView(VIEW_IDS.accessRequests, { treeDataProvider: this.accessRequestsTree });
    this.accessRequestsTree.attach(requestsView);
    const resourcesView = vscode.window.createTreeView(VIEW_IDS.resources, { treeDataProvider: this.resourcesTree, showCollapseAll: true });
    this.resourcesTree.attach(resourcesView);
    this.subscriptions.push(
      resourcesView,
      new ViewStatusController(resourcesView, [resourcesView, sessionsView, requestsView], this.connection, this.reachability),
      this.book.onDidChange(() => this.reachability.schedule()),
      this.reachability.onDidChange((state) => {
        // Back: everything shown may be stale (the sessions settle on their own, then redraw).
        if (state.kind === 'online') {
          this.refreshTrees();
          this.logs.refreshAll();
        } else this.sessionsTree.refresh();
      }),
      this.settler.onDidChange(() => this.sessionsTree.refresh()),
      sessionsView,
      sessionsView.onDidChangeVisibility((e) => this.sessionsTree.setLiveUpdates(e.visible)),
      vscode.workspace.registerTextDocumentContentProvider(SESSION_LOG_SCHEME, this.logs),
      vscode.window.registerUriHandler(this.connection.ssoRedirects),
      ...this.registerAuthProvider(),
      this.access.onDidEndSession(() => this.sessionsTree.refresh()),
      requestsView,
      requestsView.onDidChangeVisibility((e) => this.accessRequestsTree.setVisible(e.visible)),
      this.access.onDidChangeAccessRequests(() => this.accessRequestsTree.refresh()),
      ...this.browse.register(),
    );
    this.registerCommands();
    this.context.subscriptions.push(...this.subscriptions);
    await vscode.commands.executeCommand('setContext', CONTEXT_KEYS.hasLocalSessions, false);
    await this.connection.restore();
  }

  /** Ends this window's sessions cleanly (the server records them as stopped) before the host goes away. */
  async deactivate(): Promise<void> {
    await this.access.stopAll();
  }

  /** The account under VS Code's Accounts menu, with Sign Out there. */
  private registerAuthProvider(): vscode.Disposable[] {
    const provider = new PortcullisAuthProvider(this.connection, () => signOutConfirmed(this.connection, this.book, this.access));
    const registration = vscode.authentication.registerAuthenticationProvider(AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, provider, {
      supportsMultipleAccounts: false,
    });
    return [registration, provider];
  }

  refreshTrees(): void {
    this.resourcesTree.refresh();
    this.sessionsTree.refresh();
    this.accessRequestsTree.refresh();
  }

  private registerCommands(): void {
    // A failure is shown; one caused by a token the server no longer accepts also signs the user out.
    const onError = (error: unknown) => {
      showCommandError(error);
      void this.connection.handleError(error);
    };
    const register = (id: (typeof EXTENSION_COMMANDS)[keyof typeof EXTENSION_COMMANDS], handler: (...args: unknown[]) => unknown) =>
      registerCommand(this.subscriptions, id, handler, onError);
    const C = EXTENSION_COMMANDS;
    register(C.signIn, () => this.connection.signIn());
    register(C.signOut, () => signOutConfirmed(this.connection, this.book, this.access));
    register(C.refresh, async () => {
      await this.connection.reload();
      this.refreshTrees();
    });
    register(C.addResource, (item) => this.admin.addResource(item));
    register(C.editResource, (item) => this.admin.editResource(item));
    register(C.deleteResource, (item) => this.admin.deleteResource(item));
    register(C.addAccount, (item) => this.admin.addAccount(item));
    register(C.deleteAccount, (item) => this.admin.deleteAccount(item));
    register(C.editAccountPolicy, (item) => this.admin.editAccountPolicy(item));
    register(C.access, async (item) => {
      const target = item instanceof AccountTreeItem ? targetOf(item.account, item.resource) : await this.pickAccount();
      if (target) await this.access.access(target);
    });
    register(C.copyCliCommand, async (item) => {
      if (!(item instanceof AccountTreeItem)) throw new Error('choose an account in the Portcullis Resources view first');
      await copyWithConfirmation(cliAccessCommand(item.resource.name, item.account.name), 'CLI command copied to the clipboard.');
    });
    register(C.copyConnectionUri, async (item) => {
      const session = await this.localSessionOf(item);
      if (session) await copyConnectionString(session);
    });
    register(C.openMongosh, async (item) => {
      const session = await this.localSessionOf(item);
      if (session) this.access.openMongosh(session);
    });
    register(C.stopSession, async (item) => {
      if (item instanceof SessionTreeItem && !this.book.get(item.session.id)) {
        await this.stopElsewhere(item.session);
        return;
      }
      const session = await this.localSessionOf(item);
      if (session) await this.access.stop(session);
    });
    register(C.terminateSession, async (item) => {
      if (!(item instanceof SessionTreeItem)) throw new Error('choose a session in the Portcullis Sessions view first');
      const s = item.session;
      const answer = await vscode.window.showWarningMessage(
        `Terminate ${displayText(s.userEmail)}'s session on ${sessionLabel(s)}?`,
        { modal: true, detail: 'Its connections close within a second and the user is told the session was terminated.' },
        'Terminate',
      );
      if (answer !== 'Terminate') return;
      await this.connection.requireClient().terminateSession(s.id);
      this.sessionsTree.refresh();
    });
    register(C.openSessionLog, async (item) => {
      const session = item instanceof SessionTreeItem ? item.session : (item as SessionDto | undefined);
      if (!session?.id) throw new Error('choose a session in the Portcullis Sessions view first');
      const uri = sessionLogUri(session.id, session.resourceName, session.accountName);
      const held = vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString());
      const document = await vscode.workspace.openTextDocument(uri);
      // Open already (or kept by VS Code after its tab closed): VS Code shows the old content until told.
      if (held) this.logs.refresh(uri);
      await vscode.window.showTextDocument(document, { preview: false });
    });
    register(C.showActiveSessions, () => this.statusBar.showActiveSessions());
    register(C.enrollTotp, () => this.totpEnrollment.enroll());
    register(C.approveAccessRequest, (item) => this.accessRequests.approve(item));
    register(C.denyAccessRequest, (item) => this.accessRequests.deny(item));
    register(C.cancelAccessRequest, (item) => this.accessRequests.cancel(item));
    register(C.openCollection, (item) => this.browse.openCollection(item));
    register(C.loadMoreDocuments, (target) => this.browse.loadMore(target));
    register(C.editAccount, (item) => this.admin.editAccount(item));
    register(C.testConnection, (item) => this.admin.testConnection(item));
    register(C.removeTotp, () => this.totpEnrollment.remove());
  }

  /**
   * One of the user's own sessions that runs elsewhere (the CLI, another window or machine, or one this window gave
   * up on): stopped at the server, which closes its connections wherever they are.
   */
  private async stopElsewhere(session: SessionDto): Promise<void> {
    const label = sessionLabel(session);
    const answer = await vscode.window.showWarningMessage(
      `Stop your session on ${label}?`,
      {
        modal: true,
        detail: `It runs outside this window${session.clientAgent ? ` (${displayText(session.clientAgent)})` : ''}; stopping it closes its connections there within a second.`,
      },
      'Stop Session',
    );
    if (answer !== 'Stop Session') return;
    try {
      await this.connection.requireClient().stopSession(session.id);
      void vscode.window.showInformationMessage(`Stopped your session on ${label}.`);
    } catch (error) {
      if (!isApiError(error, API_ERROR_CODES.sessionNotActive))
        throw new Error(`could not stop the session on ${label}: ${describeError(error)}`);
      void vscode.window.showInformationMessage(`Your session on ${label} had ended already.`);
    } finally {
      this.sessionsTree.refresh();
    }
  }

  /** The session of this window an item stands for, or one the user picks when run from the palette. */
  private async localSessionOf(item: unknown): Promise<LocalSession | undefined> {
    if (item instanceof AccountTreeItem) return this.book.findByAccount(item.account.id) ?? noLocalSession();
    if (item instanceof SessionTreeItem) return this.book.get(item.session.id) ?? noLocalSession();
    const sessions = this.book.list();
    if (sessions.length === 0) return noLocalSession();
    if (sessions.length === 1) return sessions[0];
    const picked = await vscode.window.showQuickPick(
      sessions.map((session) => ({ label: sessionLabel(session), description: session.uri, session })),
      { title: 'Portcullis session' },
    );
    return picked?.session;
  }

  /** Access from the palette: resource, then account. */
  private async pickAccount(): Promise<AccessTarget | undefined> {
    const client = this.connection.requireClient();
    const resources = (
      await Promise.all(this.connection.projects.map((p) => collectPages((cursor) => client.listResources({ projectId: p.id, cursor }))))
    ).flat();
    if (resources.length === 0) throw new Error('there are no resources you can access yet; ask a project admin to add one');
    const resource = await vscode.window.showQuickPick(
      resources.map((r) => ({ label: displayText(r.name), description: r.gatewayOnline ? undefined : 'gateway offline', resource: r })),
      { title: 'Portcullis: Access (1/2)', placeHolder: 'Resource' },
    );
    if (!resource) return undefined;
    const accounts = await collectPages((cursor) => client.listAccounts(resource.resource.id, { cursor }));
    if (accounts.length === 0) throw new Error(`resource ${resource.label} has no accounts yet`);
    const account = await vscode.window.showQuickPick(
      accounts.map((a) => ({ label: displayText(a.name), description: accessHints(a).join(' · ') || undefined, account: a })),
      { title: 'Portcullis: Access (2/2)', placeHolder: 'Account' },
    );
    if (!account) return undefined;
    return targetOf(account.account, resource.resource);
  }
}

function targetOf(account: AccountDto, resource: ResourceDto): AccessTarget {
  return {
    accountId: account.id,
    accountName: account.name,
    resourceName: resource.name,
    reasonRequired: account.policy?.reasonRequired ?? false,
    approvalRequired: account.policy?.approvalRequired ?? false,
  };
}

/** What Access will ask for on an account, for the palette's account pick. */
function accessHints(account: AccountDto): string[] {
  return [account.mfaRequired ? 'MFA required' : '', account.policy?.approvalRequired ? 'approval required' : ''].filter(Boolean);
}

function noLocalSession(): undefined {
  void vscode.window.showInformationMessage('No session of this account is running in this window. Click Access to start one.');
  return undefined;
}
