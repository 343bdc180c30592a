import * as vscode from 'vscode';
import type { AccessRequestDto } from '../../protocol/api';

/**
 * The notification an Access shows until its session starts: "connecting", or for an account that requires
 * approval, "waiting for an admin" with Cancel. One notification at a time: each phase closes the one before,
 * because VS Code cannot turn a notification cancellable once it is shown.
 */
export class AccessProgress {
  private phase: 'connecting' | 'waiting' | undefined;
  private close: (() => void) | undefined;

  constructor(
    private readonly label: string,
    /** Cancel pressed while waiting for approval. */
    private readonly onCancelWait: () => void,
  ) {}

  connecting(): void {
    if (this.phase === 'connecting') return;
    this.show('connecting', { title: `Portcullis: connecting to ${this.label}…`, cancellable: false });
  }

  waiting(request: AccessRequestDto): void {
    this.show('waiting', {
      title: `Portcullis: waiting for an admin to approve access to ${this.label} (request ${request.id})`,
      cancellable: true,
    });
  }

  done(): void {
    this.close?.();
    this.close = undefined;
    this.phase = undefined;
  }

  private show(phase: 'connecting' | 'waiting', options: { title: string; cancellable: boolean }): void {
    this.done();
    this.phase = phase;
    // Settled by the next phase or done(), whichever VS Code does with the task in the meantime.
    let close!: () => void;
    const closed = new Promise<void>((resolve) => {
      close = resolve;
    });
    this.close = close;
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, ...options }, (progress, token) => {
      const subscription = token.onCancellationRequested(() => {
        if (phase !== 'waiting') return;
        progress.report({ message: 'withdrawing the request…' });
        this.onCancelWait();
      });
      return closed.finally(() => subscription.dispose());
    });
  }
}
