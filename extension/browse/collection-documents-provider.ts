import type { Document } from 'mongodb';
import * as vscode from 'vscode';
import { displayText } from '../../proxy-core/display-text';
import type { SessionBook } from '../sessions/session-book';
import { sessionLabel } from '../sessions/session-label';
import type { BrowseDataSource } from './browse-data-source';
import { describeBrowseError, SessionNotRunningError } from './browse-errors';
import { renderDocuments } from './documents-format';

export const BROWSE_SCHEME = 'portcullis-browse';
/** Documents per page: the first page when a collection opens, and each Load more. */
export const PAGE_SIZE = 20;

/** Which collection a document shows, and through which session. */
export interface CollectionRef {
  sessionId: string;
  resourceName: string;
  accountName: string;
  database: string;
  collection: string;
}

/** What a document shows now; the CodeLens provider reads it. */
export interface DocumentsState {
  ref: CollectionRef;
  documents: Document[];
  more: boolean;
}

/**
 * `portcullis-browse:/orders · reader/shop.items.json?<ref>`. The path is only the tab's title (ending in .json, so
 * VS Code opens it in JSON mode); the reference is JSON in base64url in the query, which survives any name (a `/`,
 * `?` or `%` in a collection name) and VS Code's encoding of URIs unchanged.
 */
export function collectionDocumentsUri(ref: CollectionRef): vscode.Uri {
  const safe = (text: string) => displayText(text).replace(/[/\\?#%]/g, '_');
  const query = Buffer.from(JSON.stringify(ref)).toString('base64url');
  return vscode.Uri.from({
    scheme: BROWSE_SCHEME,
    path: `/${safe(ref.resourceName)} · ${safe(ref.accountName)}/${safe(ref.database)}.${safe(ref.collection)}.json`,
    query,
  });
}

export function collectionRefOf(uri: vscode.Uri): CollectionRef {
  try {
    const ref = JSON.parse(Buffer.from(uri.query, 'base64url').toString('utf8')) as CollectionRef;
    if (typeof ref.sessionId === 'string' && typeof ref.database === 'string' && typeof ref.collection === 'string') return ref;
  } catch {
    // Reported below.
  }
  throw new Error(`${uri.toString()} does not name a collection; open one from the Portcullis Resources view`);
}

/**
 * Serves a collection's documents as a read-only JSON document: the first page when opened, one more page each
 * Load more (appended, so the document grows and the editor keeps its place). The pages read so far live here, per
 * document, until the editor's document is closed; opening the collection again starts from the first page.
 */
export class CollectionDocumentsProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly states = new Map<string, DocumentsState>();
  /** A Load more in progress per document: a second click waits for it rather than reading the same page twice. */
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly source: BrowseDataSource,
    private readonly book: SessionBook,
  ) {}

  /** Reads the collection's first page (so a refusal is reported before any editor opens) and returns its URI. */
  async open(ref: CollectionRef): Promise<vscode.Uri> {
    const uri = collectionDocumentsUri(ref);
    const page = await this.readPage(ref, 0);
    this.states.set(uri.query, { ref, documents: page.documents, more: page.more });
    this.changed.fire(uri);
    return uri;
  }

  /** Appends the next page; nothing happens when the end was reached already. */
  loadMore(uri: vscode.Uri): Promise<void> {
    const key = uri.query;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const load = (async () => {
      const state = this.states.get(key) ?? { ref: collectionRefOf(uri), documents: [], more: true };
      if (!state.more) return;
      const page = await this.readPage(state.ref, state.documents.length);
      this.states.set(key, { ref: state.ref, documents: [...state.documents, ...page.documents], more: page.more });
      this.changed.fire(uri);
    })().finally(() => this.loading.delete(key));
    this.loading.set(key, load);
    return load;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    let state = this.states.get(uri.query);
    if (!state) {
      // Reopened after its document was closed: start again from the first page.
      const ref = collectionRefOf(uri);
      const page = await this.readPage(ref, 0);
      state = { ref, documents: page.documents, more: page.more };
      this.states.set(uri.query, state);
    }
    return renderDocuments(state.documents);
  }

  stateOf(uri: vscode.Uri): DocumentsState | undefined {
    return uri.scheme === BROWSE_SCHEME ? this.states.get(uri.query) : undefined;
  }

  /** The editor closed the document: its pages are dropped. */
  forget(uri: vscode.Uri): void {
    if (uri.scheme === BROWSE_SCHEME) this.states.delete(uri.query);
  }

  dispose(): void {
    this.changed.dispose();
    this.states.clear();
  }

  private async readPage(ref: CollectionRef, skip: number) {
    const where = `${displayText(ref.database)}.${displayText(ref.collection)}`;
    const session = this.book.get(ref.sessionId);
    if (!session) throw new SessionNotRunningError(sessionLabel(ref));
    try {
      return await this.source.findPage(session, ref.database, ref.collection, skip, PAGE_SIZE);
    } catch (error) {
      throw new Error(`could not read ${where}: ${describeBrowseError(error)}`);
    }
  }
}
