import * as vscode from 'vscode';
import { API_ERROR_CODES } from '../../protocol/api';
import { isApiError } from '../../proxy-core/api-client';
import type { ConnectionController } from '../connection/connection-controller';
import type { ReachabilityController } from '../connection/reachability-controller';
import { isUnreachable } from '../connection/unreachable';
import type { AccessEnded } from './access-types';
import type { SessionBook } from './session-book';

/**
 * Settles what an outage of the control plane leaves behind. A session of this window that could not reach the
 * server for the reconnect timeout ends here (`network_lost`), while the server, which never heard of it, still
 * has it active: a ghost. Such sessions are stopped at the server as soon as it answers again. It also asks the
 * reachability check to look at once when a session's connection is cut, since mongosh is often first to notice.
 */
export class SessionSettler implements vscode.Disposable {
  /** Ids of sessions given up here and not yet ended at the server. */
  private readonly pending = new Set<string>();
  private readonly watched = new WeakSet<object>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a session joins or leaves the list of those to settle (the Sessions view redraws). */
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: Array<{ dispose(): void }> = [];
  private settling: Promise<void> | undefined;

  constructor(
    private readonly book: SessionBook,
    private readonly connection: ConnectionController,
    private readonly reachability: ReachabilityController,
  ) {
    this.subscriptions.push(
      book.onDidChange(() => this.watchNewSessions()),
      reachability.onDidChange((state) => {
        if (state.kind === 'online') void this.settle();
      }),
      connection.onDidChange(() => {
        // The token that could stop them is gone; the server ends them by idle timeout or expiry.
        if (!connection.signedIn && this.pending.size > 0) {
          this.pending.clear();
          this.changed.fire();
        }
      }),
    );
  }

  isSettling(sessionId: string): boolean {
    return this.pending.has(sessionId);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Stops every given-up session at the server; those it cannot reach stay for the next try. */
  settle(): Promise<void> {
    this.settling ??= this.settleAll().finally(() => {
      this.settling = undefined;
    });
    return this.settling;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }

  private watchNewSessions(): void {
    for (const session of this.book.list()) {
      if (this.watched.has(session.handle)) continue;
      this.watched.add(session.handle);
      session.handle.on('ended', (ended: AccessEnded) => {
        if (ended.reason !== 'network_lost') return;
        this.pending.add(session.id);
        this.changed.fire();
        this.reachability.noteUnreachable(new Error(ended.message));
      });
      session.handle.on('connection-closed', (closed) => {
        if (closed.error) void this.reachability.probe();
      });
    }
  }

  private async settleAll(): Promise<void> {
    const client = this.connection.current?.client;
    if (!client || this.pending.size === 0) return;
    let settled = 0;
    for (const id of [...this.pending]) {
      try {
        await client.stopSession(id);
      } catch (error) {
        if (isUnreachable(error)) {
          await this.connection.handleError(error);
          break;
        }
        // Ended there already (expired, terminated, gateway offline): its state is real. Anything else will not heal.
        if (!isApiError(error, API_ERROR_CODES.sessionNotActive) && !isApiError(error, API_ERROR_CODES.notFound)) {
          await this.connection.handleError(error);
        }
      }
      this.pending.delete(id);
      settled++;
    }
    if (settled > 0) this.changed.fire();
  }
}
