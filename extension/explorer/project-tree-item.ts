import * as vscode from 'vscode';
import type { ProjectDto } from '../../protocol/api';
import { displayText } from '../../proxy-core/display-text';
import { projectContextValue } from './context-values';

/** A project; shown only when the user belongs to more than one. */
export class ProjectTreeItem extends vscode.TreeItem {
  readonly kind = 'project';

  constructor(
    readonly project: ProjectDto,
    collapsibleState: vscode.TreeItemCollapsibleState = vscode.TreeItemCollapsibleState.Expanded,
  ) {
    super(displayText(project.name), collapsibleState);
    this.id = `project:${project.id}`;
    this.description = project.role;
    this.iconPath = new vscode.ThemeIcon('folder-library');
    this.contextValue = projectContextValue(project.role === 'admin');
  }
}
