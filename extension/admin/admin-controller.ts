import * as vscode from 'vscode';
import type { ProjectDto, ResourceInput } from '../../protocol/api';
import { displayText } from '../../proxy-core/display-text';
import type { ConnectionController } from '../connection/connection-controller';
import type { AccountTreeItem } from '../explorer/account-tree-item';
import { ProjectTreeItem } from '../explorer/project-tree-item';
import type { ResourceTreeItem } from '../explorer/resource-tree-item';
import { validateConnectionString, validateName, validatePositiveMinutes } from './input-validation';
import { askPolicy, describePolicy } from './policy-editor';

const TLS_CHOICES = Object.freeze([
  { label: 'No TLS', tlsEnabled: false, tlsRejectUnauthorized: true },
  { label: 'TLS, verify the server certificate', tlsEnabled: true, tlsRejectUnauthorized: true },
  { label: 'TLS, do not verify the certificate', detail: 'Only for test deployments', tlsEnabled: true, tlsRejectUnauthorized: false },
]);

/**
 * Admin actions on resources and accounts, as short input-box flows. Escape at any step cancels without
 * changing anything; the server validates again and its error is shown as is.
 */
export class AdminController {
  constructor(
    private readonly connection: ConnectionController,
    private readonly changed: () => void,
  ) {}

  async addResource(target?: unknown): Promise<void> {
    const project = await this.pickAdminProject(target instanceof ProjectTreeItem ? target.project : undefined);
    if (!project) return;
    const client = this.connection.requireClient();
    const gateways = await client.listGateways(project.id);
    if (gateways.length === 0) {
      throw new Error(`project ${project.name} has no gateway yet; enroll a gateway in the private network first, then add the resource`);
    }
    const name = await input({
      title: 'Add Resource (1/5)',
      prompt: 'Name of the resource, as users will see it',
      validateInput: validateName,
    });
    if (name === undefined) return;
    const gateway = await vscode.window.showQuickPick(
      gateways.map((g) => ({ label: displayText(g.name), description: g.online ? 'online' : 'offline', gateway: g })),
      { title: 'Add Resource (2/5)', placeHolder: 'The gateway that can reach this database', ignoreFocusOut: true },
    );
    if (!gateway) return;
    const connectionString = await input({
      title: 'Add Resource (3/5)',
      prompt: 'Connection string as the gateway reaches the database, without user name or password',
      placeHolder: 'mongodb://db.internal:27017/ or mongodb+srv://cluster.internal/',
      validateInput: validateConnectionString,
    });
    if (connectionString === undefined) return;
    const authDatabase = await input({
      title: 'Add Resource (4/5)',
      prompt: 'Database the accounts authenticate against',
      value: 'admin',
      validateInput: validateName,
    });
    if (authDatabase === undefined) return;
    const tls = await vscode.window.showQuickPick([...TLS_CHOICES], { title: 'Add Resource (5/5)', ignoreFocusOut: true });
    if (!tls) return;
    const resource = await client.createResource(project.id, {
      name: name.trim(),
      gatewayId: gateway.gateway.id,
      connectionString: connectionString.trim(),
      authDatabase: authDatabase.trim(),
      tlsEnabled: tls.tlsEnabled,
      tlsRejectUnauthorized: tls.tlsRejectUnauthorized,
    });
    this.changed();
    void vscode.window.showInformationMessage(`Resource ${displayText(resource.name)} added. Add an account to it so users can connect.`);
  }

  async editResource(item: unknown): Promise<void> {
    const resource = requireItem(item, 'resource').resource;
    const shownName = displayText(resource.name);
    const field = await vscode.window.showQuickPick(
      [
        { label: 'Name', description: shownName, key: 'name' as const },
        { label: 'Connection string', description: displayText(resource.connectionString), key: 'connectionString' as const },
        { label: 'Authentication database', description: displayText(resource.authDatabase), key: 'authDatabase' as const },
        { label: 'TLS', description: resource.tlsEnabled ? 'on' : 'off', key: 'tls' as const },
      ],
      { title: `Edit Resource ${shownName}`, placeHolder: 'What to change', ignoreFocusOut: true },
    );
    if (!field) return;
    let patch: Partial<ResourceInput>;
    if (field.key === 'tls') {
      const tls = await vscode.window.showQuickPick([...TLS_CHOICES], { title: `TLS for ${shownName}`, ignoreFocusOut: true });
      if (!tls) return;
      patch = { tlsEnabled: tls.tlsEnabled, tlsRejectUnauthorized: tls.tlsRejectUnauthorized };
    } else {
      const value = await input({
        title: `Edit Resource ${shownName}: ${field.label}`,
        // The value to edit stays raw: escaping it would change the name when saved.
        value: resource[field.key],
        validateInput: field.key === 'connectionString' ? validateConnectionString : validateName,
      });
      if (value === undefined || value.trim() === resource[field.key]) return;
      patch = { [field.key]: value.trim() };
    }
    await this.connection.requireClient().updateResource(resource.id, patch);
    this.changed();
  }

  async deleteResource(item: unknown): Promise<void> {
    const resource = requireItem(item, 'resource').resource;
    const answer = await vscode.window.showWarningMessage(
      `Delete resource ${displayText(resource.name)}?`,
      { modal: true, detail: 'Its accounts and their stored passwords are deleted too. Session logs are kept.' },
      'Delete',
    );
    if (answer !== 'Delete') return;
    await this.connection.requireClient().deleteResource(resource.id);
    this.changed();
  }

  async addAccount(item: unknown): Promise<void> {
    const resource = requireItem(item, 'resource').resource;
    const title = `Add Account to ${displayText(resource.name)}`;
    const name = await input({ title: `${title} (1/5)`, prompt: 'Name of the account, as users will see it', validateInput: validateName });
    if (name === undefined) return;
    const username = await input({
      title: `${title} (2/5)`,
      prompt: `Database user name (authenticates against ${displayText(resource.authDatabase)})`,
      value: name.trim(),
      validateInput: validateName,
    });
    if (username === undefined) return;
    const password = await input({
      title: `${title} (3/5)`,
      prompt: `Password of ${displayText(username.trim())}; stored encrypted on the server and never shown again`,
      password: true,
      validateInput: (v) => (v.length > 0 ? undefined : 'enter the password'),
    });
    if (password === undefined) return;
    const mfa = await vscode.window.showQuickPick(
      [
        { label: 'No verification code', mfaRequired: false },
        { label: 'Require a verification code (MFA) at Access', mfaRequired: true },
      ],
      { title: `${title} (4/5)`, ignoreFocusOut: true },
    );
    if (!mfa) return;
    const minutes = await input({
      title: `${title} (5/5)`,
      prompt: 'Longest session in minutes (empty for the server default)',
      validateInput: validatePositiveMinutes,
    });
    if (minutes === undefined) return;
    const account = await this.connection.requireClient().createAccount(resource.id, {
      name: name.trim(),
      username: username.trim(),
      password,
      mfaRequired: mfa.mfaRequired,
      ...(minutes.trim() ? { maxSessionDurationSeconds: Math.round(Number(minutes) * 60) } : {}),
    });
    this.changed();
    void vscode.window.showInformationMessage(`Account ${displayText(account.name)} added to ${displayText(resource.name)}.`);
  }

  /** Policies reach running sessions at their next command (the gateway fetches them again). */
  async editAccountPolicy(item: unknown): Promise<void> {
    const { account, resource } = requireItem(item, 'account');
    const policy = await askPolicy(account);
    if (!policy) return;
    const updated = await this.connection.requireClient().updateAccount(account.id, { policy });
    this.changed();
    void vscode.window.showInformationMessage(
      `Policy of ${displayText(resource.name)} / ${displayText(updated.name)}: ${describePolicy(updated.policy)}. Running sessions follow it from their next command.`,
    );
  }

  async deleteAccount(item: unknown): Promise<void> {
    const { account, resource } = requireItem(item, 'account');
    const answer = await vscode.window.showWarningMessage(
      `Delete account ${displayText(account.name)} of ${displayText(resource.name)}?`,
      { modal: true, detail: 'Its stored password is deleted. Session logs are kept.' },
      'Delete',
    );
    if (answer !== 'Delete') return;
    await this.connection.requireClient().deleteAccount(account.id);
    this.changed();
  }

  private async pickAdminProject(given: ProjectDto | undefined): Promise<ProjectDto | undefined> {
    if (given) return given;
    const projects = this.connection.adminProjects;
    if (projects.length === 0) throw new Error('only project admins can add resources, and you are not an admin of any project');
    if (projects.length === 1) return projects[0];
    const picked = await vscode.window.showQuickPick(
      projects.map((project) => ({ label: displayText(project.name), project })),
      { title: 'Add Resource: project', ignoreFocusOut: true },
    );
    return picked?.project;
  }
}

function input(options: vscode.InputBoxOptions): Thenable<string | undefined> {
  return vscode.window.showInputBox({ ignoreFocusOut: true, ...options });
}

function requireItem<K extends 'resource' | 'account'>(item: unknown, kind: K): K extends 'resource' ? ResourceTreeItem : AccountTreeItem {
  if ((item as { kind?: string } | undefined)?.kind !== kind) {
    throw new Error(`choose ${kind === 'resource' ? 'a resource' : 'an account'} in the Portcullis Resources view first`);
  }
  return item as K extends 'resource' ? ResourceTreeItem : AccountTreeItem;
}
