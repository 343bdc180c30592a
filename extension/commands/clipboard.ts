import * as vscode from 'vscode';

/** Copies `text` and says so: every copy in the extension confirms, so the user never wonders whether it worked. */
export async function copyWithConfirmation(text: string, confirmation: string): Promise<void> {
  await vscode.env.clipboard.writeText(text);
  void vscode.window.showInformationMessage(confirmation);
}

/** Copies a session's local address, saying what it is good for. */
export function copyConnectionUri(uri: string): Promise<void> {
  return copyWithConfirmation(uri, `Copied ${uri}: it needs no password while the session runs.`);
}
