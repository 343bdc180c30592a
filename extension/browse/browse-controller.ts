import * as vscode from 'vscode';
import type { SessionBook } from '../sessions/session-book';
import { BrowseDataSource } from './browse-data-source';
import { BrowseTree } from './browse-tree';
import { BROWSE_SCHEME, CollectionDocumentsProvider } from './collection-documents-provider';
import { CollectionTreeItem } from './collection-tree-item';
import { DocumentsCodeLensProvider } from './documents-code-lens-provider';

/**
 * Browsing data under a running session: the tree nodes (BrowseTree, shown by the Resources view under an account),
 * the read-only JSON documents of collections with their Load more, and the one MongoClient per session behind them,
 * closed when the session ends.
 */
export class BrowseController implements vscode.Disposable {
  readonly tree: BrowseTree;
  readonly documents: CollectionDocumentsProvider;
  readonly codeLenses: DocumentsCodeLensProvider;

  constructor(
    private readonly book: SessionBook,
    readonly source: BrowseDataSource = new BrowseDataSource(),
  ) {
    this.tree = new BrowseTree(source, book);
    this.documents = new CollectionDocumentsProvider(source, book);
    this.codeLenses = new DocumentsCodeLensProvider(this.documents);
  }

  /** The registrations with VS Code, for the composition root's subscriptions. */
  register(): vscode.Disposable[] {
    return [
      vscode.workspace.registerTextDocumentContentProvider(BROWSE_SCHEME, this.documents),
      vscode.languages.registerCodeLensProvider(DocumentsCodeLensProvider.selector, this.codeLenses),
      vscode.workspace.onDidCloseTextDocument((document) => this.documents.forget(document.uri)),
      // A session that ended (for any reason) takes its client with it.
      this.book.onDidChange(() => void this.source.closeAllExcept(new Set(this.book.list().map((s) => s.id)))),
    ];
  }

  /** Opens a collection's first documents in a tab of its own (kept open, not a preview). */
  async openCollection(item: unknown): Promise<void> {
    if (!(item instanceof CollectionTreeItem)) throw new Error('choose a collection under an account with a running session first');
    const session = this.tree.running(item.session);
    const uri = await this.documents.open({
      sessionId: session.id,
      resourceName: session.resourceName,
      accountName: session.accountName,
      database: item.database,
      collection: item.collection.name,
    });
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document, { preview: false });
  }

  /** Load more, from the CodeLens (with the document's URI) or the editor's title bar and palette (the active editor). */
  async loadMore(target: unknown): Promise<void> {
    const uri = target instanceof vscode.Uri ? target : vscode.window.activeTextEditor?.document.uri;
    if (!uri || uri.scheme !== BROWSE_SCHEME) throw new Error('open a collection from the Portcullis Resources view first');
    await this.documents.loadMore(uri);
  }

  dispose(): void {
    this.codeLenses.dispose();
    this.documents.dispose();
    void this.source.closeAll();
  }
}
