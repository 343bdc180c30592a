import * as vscode from 'vscode';
import { describeError } from './describe-error';
import type { ExtensionCommand } from './index';

export type CommandHandler = (...args: unknown[]) => unknown;

/**
 * The one way commands are registered: the disposable joins the extension's subscriptions, and a failure
 * becomes an error notification (with the reason, never a secret) instead of a silent rejected promise.
 */
export function registerCommand(
  subscriptions: vscode.Disposable[],
  command: ExtensionCommand,
  handler: CommandHandler,
  onError: (error: unknown) => void = showCommandError,
): void {
  subscriptions.push(
    vscode.commands.registerCommand(command, async (...args: unknown[]) => {
      try {
        return await handler(...args);
      } catch (error) {
        onError(error);
        return undefined;
      }
    }),
  );
}

export function showCommandError(error: unknown): void {
  void vscode.window.showErrorMessage(`Portcullis: ${describeError(error)}`);
}
