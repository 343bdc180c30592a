import * as vscode from 'vscode';
import type { AccountDto, ResourceDto } from '../../protocol/api';
import { collectPages } from '../../proxy-core/api-client';
import { type BrowseNode, type BrowseTree, isBrowseNode } from '../browse/browse-tree';
import { describeError } from '../commands/describe-error';
import type { ConnectionController } from '../connection/connection-controller';
import { isUnreachable } from '../connection/unreachable';
import type { SessionBook } from '../sessions/session-book';
import { AccountTreeItem } from './account-tree-item';
import { type ExpandableView, ExpansionMemory } from './expansion-memory';
import { MessageTreeItem } from './message-tree-item';
import { ProjectTreeItem } from './project-tree-item';
import { ResourceTreeItem } from './resource-tree-item';

export type ResourcesNode = ProjectTreeItem | ResourceTreeItem | AccountTreeItem | MessageTreeItem | BrowseNode;

/**
 * The Resources view: resources the user can reach (grouped by project when there is more than one), each
 * expanding to its accounts; an account with a running session here expands to its data (BrowseTree). Empty when
 * signed out or when there are no resources, so the welcome view shows. What was expanded stays expanded across
 * refreshes, and while the control plane cannot be reached the lists last loaded stay in place (the view's message
 * says it is reconnecting) instead of an error.
 */
export class ResourcesTreeProvider implements vscode.TreeDataProvider<ResourcesNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ResourcesNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: Array<{ dispose(): void }> = [];
  private readonly expansion = new ExpansionMemory();
  /** Last loaded lists, by project and by resource id: what an outage shows. */
  private readonly resourcesByProject = new Map<string, ResourceDto[]>();
  private readonly accountsByResource = new Map<string, AccountDto[]>();

  constructor(
    private readonly connection: ConnectionController,
    private readonly book: SessionBook,
    private readonly browse?: BrowseTree,
  ) {
    this.subscriptions.push(
      connection.onDidChange(() => {
        if (!connection.signedIn) this.forget();
        this.refresh();
      }),
      book.onDidChange(() => this.refresh()),
    );
  }

  /** Follows what the user expands and collapses in the view. */
  attach(view: ExpandableView<ResourcesNode>): void {
    this.subscriptions.push(...this.expansion.attach(view));
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(element: ResourcesNode): vscode.TreeItem {
    return element;
  }

  async getChildren(element?: ResourcesNode): Promise<ResourcesNode[]> {
    if (!this.connection.signedIn) return [];
    try {
      if (!element) {
        const projects = this.connection.projects;
        if (projects.length === 1) return await this.resourcesOf(projects[0].id);
        return projects.map(
          (project) =>
            new ProjectTreeItem(project, this.expansion.stateOf(`project:${project.id}`, vscode.TreeItemCollapsibleState.Expanded)),
        );
      }
      if (element instanceof ProjectTreeItem) return await this.resourcesOf(element.project.id);
      if (element instanceof ResourceTreeItem) return await this.accountsOf(element.resource);
      if (element instanceof AccountTreeItem) {
        const session = this.book.findByAccount(element.account.id);
        return session && this.browse ? await this.browse.databasesOf(session, element.id!) : [];
      }
      if (isBrowseNode(element)) return (await this.browse?.childrenOf(element)) ?? [];
      return [];
    } catch (error) {
      await this.connection.handleError(error);
      if (!this.connection.signedIn) return [];
      return [new MessageTreeItem(`Could not load: ${describeError(error)}`)];
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }

  private async resourcesOf(projectId: string): Promise<ResourcesNode[]> {
    const resources = await this.loadOrLast(this.resourcesByProject, projectId, () => {
      const client = this.connection.requireClient();
      return collectPages((cursor) => client.listResources({ projectId, cursor }));
    });
    const admin = this.connection.isAdmin(projectId);
    return [...resources]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(
        (resource) =>
          new ResourceTreeItem(
            resource,
            admin,
            this.expansion.stateOf(`resource:${resource.id}`, vscode.TreeItemCollapsibleState.Collapsed),
          ),
      );
  }

  private async accountsOf(resource: ResourceDto): Promise<ResourcesNode[]> {
    const accounts = await this.loadOrLast(this.accountsByResource, resource.id, () => {
      const client = this.connection.requireClient();
      return collectPages((cursor) => client.listAccounts(resource.id, { cursor }));
    });
    const admin = this.connection.isAdmin(resource.projectId);
    return [...accounts]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((account) => new AccountTreeItem(account, resource, this.book.findByAccount(account.id), admin));
  }

  /** Loads a list and keeps it; when the control plane cannot be reached, the list kept last time, if any. */
  private async loadOrLast<T>(kept: Map<string, T[]>, key: string, load: () => Promise<T[]>): Promise<T[]> {
    try {
      const list = await load();
      kept.set(key, list);
      return list;
    } catch (error) {
      const last = kept.get(key);
      if (!isUnreachable(error) || !last) throw error;
      await this.connection.handleError(error);
      return last;
    }
  }

  /** Signed out: nothing of that user's lists or choices carries over to the next sign-in. */
  private forget(): void {
    this.resourcesByProject.clear();
    this.accountsByResource.clear();
    this.expansion.clear();
  }
}
