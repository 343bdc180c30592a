import * as vscode from 'vscode';
import { describeError } from '../commands/describe-error';
import type { ConnectionController } from './connection-controller';
import { isUnreachable } from './unreachable';

export type Reachability = { kind: 'online' } | { kind: 'reconnecting'; since: Date; error: string };

/**
 * How often the control plane is asked whether it is there. With nothing running in this window it is not asked:
 * the views' own reloads report a failure as it happens.
 */
export const PROBE_MS = Object.freeze({
  /** While this window runs sessions: an outage shows within seconds, as mongosh starts failing. */
  busy: 5_000,
  reconnecting: 2_000,
});

/**
 * Whether the signed-in control plane can be reached: `online`, or `reconnecting` from the first request that could
 * not reach it until a health check succeeds again. Trees, logs and the status bar show the state; whoever waits for
 * the server's return (sessions to settle, trees to reload) listens for the change back to online.
 */
export class ReachabilityController implements vscode.Disposable {
  private current: Reachability = { kind: 'online' };
  private readonly changed = new vscode.EventEmitter<Reachability>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: Array<{ dispose(): void }> = [];
  private timer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;

  constructor(
    private readonly connection: ConnectionController,
    /** Whether this window runs sessions (then the server is checked more often). */
    private readonly busy: () => boolean = () => false,
  ) {
    this.subscriptions.push(
      connection.onDidSeeUnreachable((error) => this.noteUnreachable(error)),
      connection.onDidChange(() => {
        // Another sign-in (or none) starts from a clean slate: the old server's outage is not the new one's.
        if (!connection.signedIn) this.set({ kind: 'online' });
        this.schedule();
      }),
    );
  }

  get state(): Reachability {
    return this.current;
  }

  get reconnecting(): boolean {
    return this.current.kind === 'reconnecting';
  }

  /** A request could not reach the control plane: show it, and check often until it is back. */
  noteUnreachable(error: unknown): void {
    if (!this.connection.signedIn) return;
    if (this.current.kind !== 'reconnecting') this.set({ kind: 'reconnecting', since: new Date(), error: describeError(error) });
    this.schedule();
  }

  /** Checks now (sooner than the timer would), e.g. when a session's connection was cut. */
  probe(): Promise<void> {
    this.probing ??= this.check().finally(() => {
      this.probing = undefined;
      this.schedule();
    });
    return this.probing;
  }

  /** Re-arms the timer for the current state (the window started or ended a session). */
  schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.connection.signedIn || (!this.reconnecting && !this.busy())) return;
    this.timer = setTimeout(() => void this.probe(), this.reconnecting ? PROBE_MS.reconnecting : PROBE_MS.busy);
    this.timer.unref?.();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }

  private async check(): Promise<void> {
    const signedIn = this.connection.current;
    if (!signedIn) return;
    try {
      await signedIn.client.health();
      if (this.connection.current === signedIn) this.set({ kind: 'online' });
    } catch (error) {
      if (this.connection.current !== signedIn) return;
      if (isUnreachable(error)) this.noteUnreachable(error);
      // Any other answer came from the server, so it is there.
      else this.set({ kind: 'online' });
    }
  }

  private set(state: Reachability): void {
    if (state.kind === this.current.kind) return;
    this.current = state;
    this.changed.fire(state);
  }
}
