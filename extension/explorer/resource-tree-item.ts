import * as vscode from 'vscode';
import type { ResourceDto } from '../../protocol/api';
import { resourceContextValue } from './context-values';

/** A MongoDB deployment; expands to its accounts. An offline gateway shows in the description and icon. */
export class ResourceTreeItem extends vscode.TreeItem {
  readonly kind = 'resource';

  constructor(
    readonly resource: ResourceDto,
    admin: boolean,
  ) {
    super(resource.name, vscode.TreeItemCollapsibleState.Collapsed);
    this.id = `resource:${resource.id}`;
    this.description = resource.gatewayOnline ? resource.gatewayName : `gateway ${resource.gatewayName} offline`;
    this.iconPath = resource.gatewayOnline
      ? new vscode.ThemeIcon('database')
      : new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('list.warningForeground'));
    this.tooltip = new vscode.MarkdownString(
      [
        `**${resource.name}**`,
        `Gateway: ${resource.gatewayName} (${resource.gatewayOnline ? 'online' : 'offline: Access fails until it reconnects'})`,
        `Authentication database: ${resource.authDatabase}`,
        `TLS: ${resource.tlsEnabled ? 'on' : 'off'}`,
      ].join('\n\n'),
    );
    this.contextValue = resourceContextValue(admin);
  }
}
