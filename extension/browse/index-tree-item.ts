import * as vscode from 'vscode';
import { displayText } from '../../proxy-core/display-text';
import type { LocalSession } from '../sessions/session-book';
import type { IndexInfo } from './browse-data-source';
import { browseId } from './browse-ids';

/** An index of a collection: its name, its key and its options. */
export class IndexTreeItem extends vscode.TreeItem {
  readonly kind = 'browse.index';

  constructor(
    readonly session: LocalSession,
    readonly database: string,
    readonly collection: string,
    readonly index: IndexInfo,
  ) {
    super(displayText(index.name), vscode.TreeItemCollapsibleState.None);
    this.id = browseId(session.id, database, collection, 'index', index.name);
    const options = [
      index.unique ? 'unique' : '',
      index.sparse ? 'sparse' : '',
      index.expireAfterSeconds !== undefined ? `TTL ${index.expireAfterSeconds} s` : '',
    ].filter(Boolean);
    this.description = [indexKeyText(index.key), ...options].join(' · ');
    this.iconPath = new vscode.ThemeIcon('key');
    this.tooltip = `${displayText(index.name)}\nKey: ${indexKeyText(index.key)}${options.length ? `\n${options.join(', ')}` : ''}`;
    this.contextValue = 'browse.index';
  }
}

/** `{ sku: 1, at: -1 }`, `{ name: "text" }`: the key as mongosh shows it, names escaped. */
export function indexKeyText(key: Record<string, unknown>): string {
  const fields = Object.entries(key).map(
    ([field, direction]) => `${displayText(field)}: ${displayText(JSON.stringify(direction) ?? String(direction))}`,
  );
  return `{ ${fields.join(', ')} }`;
}
