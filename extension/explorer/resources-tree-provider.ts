import * as vscode from 'vscode';
import type { ResourceDto } from '../../protocol/api';
import { collectPages } from '../../proxy-core/api-client';
import { type BrowseNode, type BrowseTree, isBrowseNode } from '../browse/browse-tree';
import { describeError } from '../commands/describe-error';
import type { ConnectionController } from '../connection/connection-controller';
import type { SessionBook } from '../sessions/session-book';
import { AccountTreeItem } from './account-tree-item';
import { MessageTreeItem } from './message-tree-item';
import { ProjectTreeItem } from './project-tree-item';
import { ResourceTreeItem } from './resource-tree-item';

export type ResourcesNode = ProjectTreeItem | ResourceTreeItem | AccountTreeItem | MessageTreeItem | BrowseNode;

/**
 * The Resources view: resources the user can reach (grouped by project when there is more than one), each
 * expanding to its accounts; an account with a running session here expands to its data (BrowseTree). Empty when
 * signed out or when there are no resources, so the welcome view shows.
 */
export class ResourcesTreeProvider implements vscode.TreeDataProvider<ResourcesNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ResourcesNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: Array<{ dispose(): void }> = [];

  constructor(
    private readonly connection: ConnectionController,
    private readonly book: SessionBook,
    private readonly browse?: BrowseTree,
  ) {
    this.subscriptions.push(
      connection.onDidChange(() => this.refresh()),
      book.onDidChange(() => this.refresh()),
    );
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
        return projects.map((project) => new ProjectTreeItem(project));
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

  private async resourcesOf(projectId: string): Promise<ResourcesNode[]> {
    const client = this.connection.requireClient();
    const resources = await collectPages((cursor) => client.listResources({ projectId, cursor }));
    const admin = this.connection.isAdmin(projectId);
    return resources.sort((a, b) => a.name.localeCompare(b.name)).map((resource) => new ResourceTreeItem(resource, admin));
  }

  private async accountsOf(resource: ResourceDto): Promise<ResourcesNode[]> {
    const client = this.connection.requireClient();
    const accounts = await collectPages((cursor) => client.listAccounts(resource.id, { cursor }));
    const admin = this.connection.isAdmin(resource.projectId);
    return accounts
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((account) => new AccountTreeItem(account, resource, this.book.findByAccount(account.id), admin));
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
