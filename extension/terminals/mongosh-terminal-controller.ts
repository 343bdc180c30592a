import * as vscode from 'vscode';
import { displayMessage } from '../../proxy-core/display-text';
import { copyConnectionUri } from '../commands/clipboard';
import { describeError } from '../commands/describe-error';
import { EXTENSION_COMMANDS } from '../commands/index';
import { showCommandError } from '../commands/register-command';
import type { ConnectionController } from '../connection/connection-controller';
import type { AccessTarget } from '../sessions/access-controller';
import type { AccessEnded } from '../sessions/access-types';
import { locateExecutable, MONGOSH_INSTALL_PAGE } from '../sessions/mongosh-locator';
import type { LocalSession, SessionBook } from '../sessions/session-book';
import { sessionLabel } from '../sessions/session-label';
import type { Settings } from '../storage/settings';
import { findFailedConnection } from './early-exit-reason';
import { TerminalChannel, type TerminalPeer } from './terminal-channel';
import { type EndContext, earlyExitNotice, sessionEndNotice, startBanner } from './terminal-notices';
import { type FromTerminal, TERMINAL_ENV } from './terminal-protocol';

/** One mongosh terminal: the wrapper process in it (its peer) and the session mongosh runs on. */
interface TerminalLink {
  readonly terminal: vscode.Terminal;
  readonly peer: TerminalPeer;
  readonly name: string;
  /** The session mongosh runs on; undefined once it ended and the terminal offers Reconnect. */
  session: LocalSession | undefined;
  /** The account, for Reconnect once the session has ended. */
  readonly target: AccessTarget;
  state: 'running' | 'exited' | 'ended' | 'reconnecting';
}

/** What the terminals need from the rest of the extension (the access controller, built after them). */
export interface TerminalHooks {
  /** A new session on the account for Reconnect, without a terminal of its own; undefined when the user cancelled. */
  reconnect(target: AccessTarget): Promise<LocalSession | undefined>;
  endSession(session: LocalSession): Promise<void>;
}

export const EARLY_EXIT_ACTIONS = Object.freeze({ openLog: 'Open Session Log', editAccount: 'Edit Account', end: 'End Session' } as const);

/**
 * mongosh terminals that tell the truth. Each runs the wrapper (dist/mongosh-terminal.js) with the editor's own
 * Node.js; the wrapper runs mongosh with the terminal's TTY, and this controller tells it over a local socket when
 * the session ends (why, and R to reconnect, into the same terminal) and, when mongosh exits with an error, the
 * gateway's reason from the session log, also shown in a notification with what to do next.
 */
export class MongoshTerminalController implements vscode.Disposable {
  private readonly links = new Set<TerminalLink>();
  private readonly channel = new TerminalChannel();
  /** Per session, the last failed connection already told (seq), so an old reason is not told again. */
  private readonly failuresTold = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly settings: Settings,
    private readonly connection: ConnectionController,
    private readonly book: SessionBook,
    /** dist/mongosh-terminal.js: the wrapper, bundled beside the extension. */
    private readonly wrapperScript: string,
    private readonly hooks: TerminalHooks,
    /** How long to look for the gateway's reason after mongosh exited (the log arrives within a second or so). */
    private readonly reasonLookup: { attempts?: number; intervalMs?: number } = {},
  ) {
    this.disposables.push(vscode.window.onDidCloseTerminal((terminal) => this.closed(terminal)));
  }

  /** A new mongosh terminal on the session, named distinctly from the others; undefined (and explained) without mongosh. */
  open(session: LocalSession): vscode.Terminal | undefined {
    const mongosh = this.locateMongosh(session.uri);
    if (!mongosh) return undefined;
    let link: TerminalLink | undefined;
    const peer = this.channel.expect({
      message: (message) => {
        if (link) this.received(link, message);
      },
      closed: () => {},
    });
    const name = this.freeName(`mongosh · ${sessionLabel(session)}`);
    const terminal = vscode.window.createTerminal({
      name,
      shellPath: process.execPath,
      shellArgs: [this.wrapperScript],
      env: {
        [TERMINAL_ENV.channel]: this.channel.address(),
        [TERMINAL_ENV.key]: peer.key,
        // The editor's executable is Electron in desktop VS Code: this makes it the Node.js the wrapper needs.
        ELECTRON_RUN_AS_NODE: '1',
      },
      iconPath: new vscode.ThemeIcon('database'),
      // The session does not outlive the window, so a terminal restored after a reload would have nothing to run.
      isTransient: true,
    });
    link = {
      terminal,
      peer,
      name,
      session: undefined,
      target: { accountId: session.accountId, accountName: session.accountName, resourceName: session.resourceName },
      state: 'running',
    };
    this.links.add(link);
    this.attach(link, session);
    this.start(link, session, mongosh, false);
    terminal.show();
    return terminal;
  }

  /**
   * Shows the session's newest terminal; if mongosh had exited in it, starts mongosh again there. Undefined when the
   * session has no terminal open.
   */
  focus(session: LocalSession): vscode.Terminal | undefined {
    const link = [...this.links].reverse().find((l) => l.session?.id === session.id);
    if (!link) return undefined;
    if (link.state === 'exited') {
      const mongosh = this.locateMongosh(session.uri);
      if (mongosh) this.start(link, session, mongosh, false);
    }
    link.terminal.show();
    return link.terminal;
  }

  /** Every terminal of the session says why it ended and offers Reconnect. */
  sessionEnded(session: LocalSession, ended: AccessEnded, context: EndContext): void {
    this.failuresTold.delete(session.id);
    const notice = sessionEndNotice(sessionLabel(session), ended, context);
    for (const link of this.links) {
      if (link.session?.id !== session.id) continue;
      link.session = undefined;
      link.state = 'ended';
      link.peer.send({ type: 'ended', ...notice, offer: 'reconnect' });
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.links.clear();
    this.channel.dispose();
  }

  private received(link: TerminalLink, message: Exclude<FromTerminal, { type: 'hello' }>): void {
    if (message.type === 'retry') {
      void this.retry(link);
      return;
    }
    // `exit` typed in mongosh: the wrapper exits too and the terminal closes (the terminal-close rule applies).
    if (message.code === 0 && !message.signal) return;
    const session = link.session;
    if (!session || link.state !== 'running') return;
    link.state = 'exited';
    void this.explainExit(link, session, message);
  }

  /** mongosh exited with an error while its session runs: the gateway's reason, in the terminal and a notification. */
  private async explainExit(
    link: TerminalLink,
    session: LocalSession,
    exit: { code: number | null; signal: string | null },
  ): Promise<void> {
    const client = this.connection.current ? this.connection.requireClient() : undefined;
    const failure = client
      ? await findFailedConnection(client, session.id, this.failuresTold.get(session.id) ?? 0, this.reasonLookup)
      : undefined;
    if (failure) this.failuresTold.set(session.id, failure.seq);
    // Meanwhile the session may have ended (its own message is shown) or mongosh started again.
    if (link.session !== session || link.state !== 'exited') return;
    link.peer.send({ type: 'failed', ...earlyExitNotice(sessionLabel(session), exit, failure?.message), offer: 'retry' });
    if (failure) await this.notifyEarlyExit(session, failure.message);
  }

  private async notifyEarlyExit(session: LocalSession, reason: string): Promise<void> {
    const admin = this.connection.isAdmin(session.handle.session.projectId);
    const actions = [EARLY_EXIT_ACTIONS.openLog, ...(admin ? [EARLY_EXIT_ACTIONS.editAccount] : []), EARLY_EXIT_ACTIONS.end];
    const choice = await vscode.window.showErrorMessage(
      `mongosh could not connect to ${sessionLabel(session)}: ${displayMessage(reason)}`,
      ...actions,
    );
    try {
      if (choice === EARLY_EXIT_ACTIONS.openLog) {
        const { id, resourceName, accountName } = session;
        await vscode.commands.executeCommand(EXTENSION_COMMANDS.openSessionLog, { id, resourceName, accountName });
      } else if (choice === EARLY_EXIT_ACTIONS.editAccount) {
        const client = this.connection.requireClient();
        const [account, resource] = await Promise.all([client.getAccount(session.accountId), client.getResource(session.resourceId)]);
        await vscode.commands.executeCommand(EXTENSION_COMMANDS.editAccount, { kind: 'account', account, resource });
      } else if (choice === EARLY_EXIT_ACTIONS.end) {
        await this.hooks.endSession(session);
      }
    } catch (error) {
      showCommandError(error);
    }
  }

  /** R in the terminal: mongosh again on the running session, or a new session once it ended. */
  private async retry(link: TerminalLink): Promise<void> {
    const label = sessionLabel(link.target);
    const running = link.session && this.book.get(link.session.id);
    if (running) {
      const mongosh = this.locateMongosh(running.uri, link);
      if (mongosh) this.start(link, running, mongosh, false);
      return;
    }
    if (link.state === 'reconnecting') return;
    link.state = 'reconnecting';
    link.peer.send({ type: 'notice', text: `Starting a new session on ${label}…` });
    try {
      const next = await this.hooks.reconnect(link.target);
      if (!next) {
        link.state = 'ended';
        link.peer.send({ type: 'notice', text: 'No new session was started.', offer: 'reconnect' });
        return;
      }
      const mongosh = this.locateMongosh(next.uri, link);
      this.attach(link, next);
      if (mongosh) this.start(link, next, mongosh, true);
    } catch (error) {
      link.state = 'ended';
      link.peer.send({ type: 'notice', text: `Could not start a new session: ${describeError(error)}`, offer: 'reconnect' });
      showCommandError(error);
      void this.connection.handleError(error);
    }
  }

  private attach(link: TerminalLink, session: LocalSession): void {
    link.session = session;
    session.terminals.add(link.terminal);
    this.book.touch();
  }

  private start(link: TerminalLink, session: LocalSession, mongosh: string, reconnected: boolean): void {
    link.state = 'running';
    link.peer.send({
      type: 'start',
      command: mongosh,
      args: [session.uri],
      banner: startBanner(sessionLabel(session), session.id, reconnected),
    });
  }

  /**
   * The mongosh executable, or undefined after saying it is missing: in a notification for a new terminal, in the
   * terminal itself (`link`) when starting again.
   */
  private locateMongosh(uri: string, link?: TerminalLink): string | undefined {
    const setting = this.settings.mongoshPath;
    const mongosh = locateExecutable(setting);
    if (mongosh) return mongosh;
    if (link) {
      link.state = 'exited';
      link.peer.send({
        type: 'notice',
        text: `mongosh was not found ("${setting}"): install it or set portcullis.mongoshPath. The session runs at ${uri}.`,
        offer: 'retry',
      });
      return undefined;
    }
    void vscode.window
      .showWarningMessage(
        `mongosh was not found ("${setting}"). Install it or set portcullis.mongoshPath; the session is running at ${uri}.`,
        'Copy Connection URI',
        'Open Install Page',
      )
      .then(async (choice) => {
        if (choice === 'Copy Connection URI') await copyConnectionUri(uri);
        if (choice === 'Open Install Page') await vscode.env.openExternal(vscode.Uri.parse(MONGOSH_INSTALL_PAGE));
      });
    return undefined;
  }

  /** `base`, or `base (2)`, `base (3)`… while a terminal of this window already has the name. */
  private freeName(base: string): string {
    const taken = new Set([...this.links].map((l) => l.name));
    if (!taken.has(base)) return base;
    for (let n = 2; ; n++) if (!taken.has(`${base} (${n})`)) return `${base} (${n})`;
  }

  private closed(terminal: vscode.Terminal): void {
    for (const link of this.links) {
      if (link.terminal !== terminal) continue;
      this.links.delete(link);
      this.channel.forget(link.peer);
    }
  }
}
