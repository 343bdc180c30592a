import * as vscode from 'vscode';
import { displayText } from '../../proxy-core/display-text';
import { EXTENSION_COMMANDS } from '../commands/index';
import { sessionLabel } from '../sessions/session-label';
import { BROWSE_SCHEME, type CollectionDocumentsProvider, PAGE_SIZE } from './collection-documents-provider';
import { documentCount } from './collection-tree-item';

/**
 * The lines above a collection's JSON document: on the first, what it shows (collection, session, how many
 * documents, in which order); on the last, **Load 20 more** while the collection has more, else that the end was
 * reached. A CodeLens because the document is JSON: a comment would make it invalid, and a lens sits where the
 * reader's eye is when the documents run out. (Also in the editor's title bar: Portcullis: Load More Documents.)
 */
export class DocumentsCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: { dispose(): void };

  constructor(private readonly documents: CollectionDocumentsProvider) {
    this.subscription = documents.onDidChange(() => this.changed.fire());
  }

  static readonly selector: vscode.DocumentSelector = { scheme: BROWSE_SCHEME };

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const state = this.documents.stateOf(document.uri);
    if (!state) return [];
    const { ref, documents, more } = state;
    const where = `${displayText(ref.database)}.${displayText(ref.collection)}`;
    const first = new vscode.Range(0, 0, 0, 0);
    const lastLine = Math.max(0, document.lineCount - 1);
    const last = new vscode.Range(lastLine, 0, lastLine, 0);
    // A lens with an empty command id is shown as text, not as a link.
    const summary = new vscode.CodeLens(first, {
      title: `${where} through ${sessionLabel(ref)}: ${documentCount(documents.length)} in _id order, read-only`,
      command: '',
    });
    const end = more
      ? new vscode.CodeLens(last, {
          title: `Load ${PAGE_SIZE} more`,
          tooltip: `Read the next ${PAGE_SIZE} documents of ${where} (a find in the session log)`,
          command: EXTENSION_COMMANDS.loadMoreDocuments,
          arguments: [document.uri],
        })
      : new vscode.CodeLens(last, {
          title: documents.length === 0 ? `${where} has no documents` : `End of ${where}: all ${documentCount(documents.length)} shown`,
          command: '',
        });
    return [summary, end];
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
