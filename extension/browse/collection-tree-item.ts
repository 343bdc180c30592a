import * as vscode from 'vscode';
import { displayText } from '../../proxy-core/display-text';
import { EXTENSION_COMMANDS } from '../commands/index';
import type { LocalSession } from '../sessions/session-book';
import type { CollectionInfo } from './browse-data-source';
import { describeBrowseError } from './browse-errors';
import { browseId } from './browse-ids';

/**
 * A collection (or view) with its estimated document count. Clicking it opens its first documents; it expands (by
 * its twistie: VS Code expands an item with a command only there) to its indexes.
 */
export class CollectionTreeItem extends vscode.TreeItem {
  readonly kind = 'browse.collection';

  constructor(
    readonly session: LocalSession,
    readonly database: string,
    readonly collection: CollectionInfo,
  ) {
    super(displayText(collection.name), vscode.TreeItemCollapsibleState.Collapsed);
    this.id = browseId(session.id, database, collection.name);
    const view = collection.type === 'view';
    this.description = view
      ? 'view'
      : collection.count !== undefined
        ? documentCount(collection.count)
        : collection.countError
          ? 'count unavailable'
          : undefined;
    this.iconPath = new vscode.ThemeIcon(view ? 'eye' : 'table');
    const qualified = `${displayText(database)}.${displayText(collection.name)}`;
    this.tooltip = [
      `${qualified}${view ? ' (view)' : collection.type !== 'collection' ? ` (${displayText(collection.type)})` : ''}`,
      collection.count !== undefined ? `About ${documentCount(collection.count)} (estimated).` : '',
      collection.countError ? `Could not count: ${describeBrowseError(collection.countError)}` : '',
      'Click to open its first documents; expand to see its indexes.',
    ]
      .filter(Boolean)
      .join('\n');
    this.contextValue = view ? 'browse.view' : 'browse.collection';
    this.command = { command: EXTENSION_COMMANDS.openCollection, title: 'Open Documents', arguments: [this] };
  }
}

export function documentCount(count: number): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? 'document' : 'documents'}`;
}
