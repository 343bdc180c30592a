import * as vscode from 'vscode';
import type { ResourceDto } from '../../protocol/api';
import { displayText } from '../../proxy-core/display-text';
import { resourceContextValue } from './context-values';

/** A MongoDB deployment; expands to its accounts. An offline gateway shows in the description and icon. */
export class ResourceTreeItem extends vscode.TreeItem {
  readonly kind = 'resource';

  constructor(
    readonly resource: ResourceDto,
    admin: boolean,
    collapsibleState: vscode.TreeItemCollapsibleState = vscode.TreeItemCollapsibleState.Collapsed,
  ) {
    super(displayText(resource.name), collapsibleState);
    this.id = `resource:${resource.id}`;
    const gateway = displayText(resource.gatewayName);
    this.description = resource.gatewayOnline ? gateway : `gateway ${gateway} offline`;
    this.iconPath = resource.gatewayOnline
      ? new vscode.ThemeIcon('database')
      : new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('list.warningForeground'));
    this.tooltip = new vscode.MarkdownString(
      [
        `**${displayText(resource.name)}**`,
        `Gateway: ${gateway} (${resource.gatewayOnline ? 'online' : 'offline: Access fails until it reconnects'})`,
        `Authentication database: ${displayText(resource.authDatabase)}`,
        `TLS: ${resource.tlsEnabled ? 'on' : 'off'}`,
      ].join('\n\n'),
    );
    this.contextValue = resourceContextValue(admin);
  }
}
