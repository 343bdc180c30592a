import * as vscode from 'vscode';
import { EXTENSION_COMMANDS } from '../commands/index';

/**
 * A line under a browse node: why its children could not be read (the server's text, e.g. a policy refusal), or
 * that there are none. Clicking an error reloads the view.
 */
export class BrowseMessageTreeItem extends vscode.TreeItem {
  readonly kind = 'browse.message';

  constructor(
    readonly severity: 'error' | 'empty',
    message: string,
    parentId: string,
  ) {
    super(message, vscode.TreeItemCollapsibleState.None);
    this.id = `${parentId}:${severity}`;
    this.iconPath = new vscode.ThemeIcon(severity === 'error' ? 'error' : 'info');
    this.contextValue = `browse.${severity}`;
    if (severity === 'error') {
      this.tooltip = `${message}\nClick to try again.`;
      this.command = { command: EXTENSION_COMMANDS.refresh, title: 'Refresh' };
    }
  }
}
