import * as vscode from 'vscode';
import { EXTENSION_COMMANDS } from '../commands/index';

/** A line explaining why a list could not be loaded; clicking it retries. */
export class MessageTreeItem extends vscode.TreeItem {
  readonly kind = 'message';

  constructor(message: string) {
    super(message, vscode.TreeItemCollapsibleState.None);
    this.iconPath = new vscode.ThemeIcon('warning');
    this.tooltip = `${message}\nClick to try again.`;
    this.contextValue = 'message';
    this.command = { command: EXTENSION_COMMANDS.refresh, title: 'Refresh' };
  }
}
