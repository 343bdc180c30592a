import * as vscode from 'vscode';
import { displayText } from '../../proxy-core/display-text';
import type { LocalSession } from '../sessions/session-book';
import type { DatabaseInfo } from './browse-data-source';
import { browseId } from './browse-ids';

/** A database the account can see, under an account with a running session; expands to its collections. */
export class DatabaseTreeItem extends vscode.TreeItem {
  readonly kind = 'browse.database';

  constructor(
    readonly session: LocalSession,
    readonly database: DatabaseInfo,
  ) {
    super(displayText(database.name), vscode.TreeItemCollapsibleState.Collapsed);
    this.id = browseId(session.id, database.name);
    this.description = database.empty ? 'empty' : database.sizeOnDisk !== undefined ? formatBytes(database.sizeOnDisk) : undefined;
    this.iconPath = new vscode.ThemeIcon('database');
    this.tooltip = `${displayText(database.name)}\nRead through the session's local address; every command is in the session log.`;
    this.contextValue = 'browse.database';
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
