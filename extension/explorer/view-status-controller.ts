import type * as vscode from 'vscode';
import type { ConnectionController } from '../connection/connection-controller';
import type { ReachabilityController } from '../connection/reachability-controller';
import { formatLocalTime } from '../logs/local-time';

/** The parts of a TreeView this controller writes: the title's description and the message above the tree. */
export interface TitledView {
  description?: string;
  message?: string;
}

/**
 * What the views' titles say beyond their lists: who is signed in on which server (the Resources view's
 * description), and while the control plane cannot be reached, that the extension is reconnecting and the lists
 * are as last loaded (a message above each tree).
 */
export class ViewStatusController implements vscode.Disposable {
  private readonly subscriptions: Array<{ dispose(): void }> = [];

  constructor(
    private readonly identityView: TitledView,
    private readonly views: TitledView[],
    private readonly connection: ConnectionController,
    private readonly reachability: ReachabilityController,
  ) {
    this.subscriptions.push(
      connection.onDidChange(() => this.update()),
      reachability.onDidChange(() => this.update()),
    );
    this.update();
  }

  update(): void {
    this.identityView.description = this.connection.identity ?? '';
    const state = this.reachability.state;
    const server = this.connection.current?.server;
    const message =
      state.kind === 'reconnecting' && server
        ? `Reconnecting to ${server}… No answer since ${formatLocalTime(state.since)}; showing what was loaded before.`
        : undefined;
    for (const view of this.views) view.message = message;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
