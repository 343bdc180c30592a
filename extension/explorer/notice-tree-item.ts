import * as vscode from 'vscode';

/** A line saying a list is empty, where an empty tree would look like one still loading. No action. */
export class NoticeTreeItem extends vscode.TreeItem {
  readonly kind = 'notice';

  constructor(message: string) {
    super(message, vscode.TreeItemCollapsibleState.None);
    this.iconPath = new vscode.ThemeIcon('info');
    this.contextValue = 'notice';
  }
}
