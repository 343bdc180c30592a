import * as vscode from 'vscode';

/** The part of a TreeView that says what the user expanded and collapsed. */
export interface ExpandableView<T> {
  readonly onDidExpandElement: vscode.Event<vscode.TreeViewExpansionEvent<T>>;
  readonly onDidCollapseElement: vscode.Event<vscode.TreeViewExpansionEvent<T>>;
}

/**
 * Which tree items (by their stable `id`) the user expanded or collapsed. VS Code keeps that only for items that
 * stay in the tree across a refresh; items that come back after being gone (an outage showed an error instead,
 * a sign-in again) are built from this, so a tree never comes back collapsed.
 */
export class ExpansionMemory {
  private readonly expanded = new Map<string, boolean>();

  attach<T extends { id?: string }>(view: ExpandableView<T>): vscode.Disposable[] {
    return [
      view.onDidExpandElement((e) => this.note(e.element.id, true)),
      view.onDidCollapseElement((e) => this.note(e.element.id, false)),
    ];
  }

  note(id: string | undefined, expanded: boolean): void {
    if (id) this.expanded.set(id, expanded);
  }

  /** The state to build an item with: the user's last choice, else `fallback`. */
  stateOf(id: string, fallback: vscode.TreeItemCollapsibleState): vscode.TreeItemCollapsibleState {
    const remembered = this.expanded.get(id);
    if (remembered === undefined) return fallback;
    return remembered ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
  }

  clear(): void {
    this.expanded.clear();
  }
}
