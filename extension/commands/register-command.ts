import * as vscode from 'vscode';
import { isApiError } from '../../proxy-core/api-client';
import { authenticatorAppNeededText, needsAuthenticatorApp } from '../mfa/mfa-errors';
import { describeError } from './describe-error';
import { EXTENSION_COMMANDS, type ExtensionCommand } from './index';

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

export const SET_UP_AUTHENTICATOR_APP = 'Set Up Authenticator App';

/** A failure that an authenticator app solves offers to set one up, here, rather than naming the CLI. */
export function showCommandError(error: unknown): void {
  // The server's own message names the CLI; a wrapping error (Access's) already says it in the extension's words.
  const text = isApiError(error, 'mfa_not_configured')
    ? `Portcullis: ${authenticatorAppNeededText(error, 'This account')}.`
    : `Portcullis: ${describeError(error)}`;
  if (!needsAuthenticatorApp(error)) {
    void vscode.window.showErrorMessage(text);
    return;
  }
  void vscode.window.showErrorMessage(text, SET_UP_AUTHENTICATOR_APP).then((choice) => {
    if (choice === SET_UP_AUTHENTICATOR_APP) void vscode.commands.executeCommand(EXTENSION_COMMANDS.enrollTotp);
  });
}
