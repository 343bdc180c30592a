import type { LocalSession, SessionBook } from '../sessions/session-book';
import { sessionLabel } from '../sessions/session-label';
import type { BrowseDataSource } from './browse-data-source';
import { describeBrowseError, SessionNotRunningError } from './browse-errors';
import { BrowseMessageTreeItem } from './browse-message-tree-item';
import { CollectionTreeItem } from './collection-tree-item';
import { DatabaseTreeItem } from './database-tree-item';
import { IndexTreeItem } from './index-tree-item';

export type BrowseNode = DatabaseTreeItem | CollectionTreeItem | IndexTreeItem | BrowseMessageTreeItem;

export function isBrowseNode(element: unknown): element is BrowseNode {
  return (
    element instanceof DatabaseTreeItem ||
    element instanceof CollectionTreeItem ||
    element instanceof IndexTreeItem ||
    element instanceof BrowseMessageTreeItem
  );
}

/**
 * The browse part of the Resources view: under an account with a running session of this window, its databases,
 * their collections and each collection's indexes, read when a node expands (and again on every refresh). A failure
 * becomes one error line under the node that failed, with the server's text; the rest of the tree is unaffected.
 */
export class BrowseTree {
  constructor(
    private readonly source: BrowseDataSource,
    private readonly book: SessionBook,
  ) {}

  /** The databases of a running session (the children of its account). */
  databasesOf(session: LocalSession, accountItemId: string): Promise<BrowseNode[]> {
    return this.read(session, accountItemId, 'the databases', 'No databases this account can see.', async (running) =>
      (await this.source.listDatabases(running)).map((d) => new DatabaseTreeItem(running, d)),
    );
  }

  childrenOf(element: BrowseNode): Promise<BrowseNode[]> {
    if (element instanceof DatabaseTreeItem) {
      const db = element.database.name;
      return this.read(element.session, element.id!, 'the collections', 'No collections.', async (running) =>
        (await this.source.listCollections(running, db)).map((c) => new CollectionTreeItem(running, db, c)),
      );
    }
    if (element instanceof CollectionTreeItem) {
      const { database } = element;
      const collection = element.collection.name;
      return this.read(element.session, element.id!, 'the indexes', 'No indexes.', async (running) =>
        (await this.source.listIndexes(running, database, collection)).map((i) => new IndexTreeItem(running, database, collection, i)),
      );
    }
    return Promise.resolve([]);
  }

  /** The session as this window runs it now; throws when it ended since the node was drawn. */
  running(session: LocalSession): LocalSession {
    const running = this.book.get(session.id);
    if (!running) throw new SessionNotRunningError(sessionLabel(session));
    return running;
  }

  private async read(
    session: LocalSession,
    parentId: string,
    what: string,
    none: string,
    list: (running: LocalSession) => Promise<BrowseNode[]>,
  ): Promise<BrowseNode[]> {
    try {
      const nodes = await list(this.running(session));
      return nodes.length > 0 ? nodes : [new BrowseMessageTreeItem('empty', none, parentId)];
    } catch (error) {
      return [new BrowseMessageTreeItem('error', `Could not list ${what}: ${describeBrowseError(error)}`, parentId)];
    }
  }
}
