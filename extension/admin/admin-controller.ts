import * as vscode from 'vscode';
import type { ProjectDto, ResourceDto, ResourceInput } from '../../protocol/api';
import { displayText } from '../../proxy-core/display-text';
import { showCommandError } from '../commands/register-command';
import type { ConnectionController } from '../connection/connection-controller';
import type { AccountTreeItem } from '../explorer/account-tree-item';
import { ProjectTreeItem } from '../explorer/project-tree-item';
import type { ResourceTreeItem } from '../explorer/resource-tree-item';
import { askPassword, askSimpleChange, describeChange, pickAccountField } from './account-editor';
import { runConnectionTest, showTestResult, type TestVerdict, testBeforeSaving } from './connection-test-flow';
import { checkCaCertificate, validateConnectionString, validateName, validatePositiveMinutes } from './input-validation';
import { askPolicy, describePolicy } from './policy-editor';

/** How the gateway reaches a resource over TLS; `caFile`: verify against a CA the admin picks (a PEM file). */
interface TlsChoice extends vscode.QuickPickItem {
  tlsEnabled: boolean;
  tlsRejectUnauthorized: boolean;
  caFile?: boolean;
  removeCa?: boolean;
}

const TLS_CHOICES: readonly TlsChoice[] = Object.freeze([
  { label: 'No TLS', tlsEnabled: false, tlsRejectUnauthorized: true },
  { label: 'TLS, verify the server certificate', tlsEnabled: true, tlsRejectUnauthorized: true },
  {
    label: 'TLS, verify against a CA file (PEM)…',
    detail: 'For a private CA: choose its certificate file; it is stored with the resource and sent to the gateway',
    tlsEnabled: true,
    tlsRejectUnauthorized: true,
    caFile: true,
  },
  { label: 'TLS, do not verify the certificate', detail: 'Only for test deployments', tlsEnabled: true, tlsRejectUnauthorized: false },
]);

type TlsSettings = Pick<ResourceInput, 'tlsEnabled' | 'tlsRejectUnauthorized' | 'caCertificate'>;

/**
 * Admin actions on resources and accounts, as short input-box flows. Escape at any step cancels without
 * changing anything; the server validates again and its error is shown as is. Settings that reach the database
 * are tried by the gateway (Test Connection) before they are saved, when the gateway is online.
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
    const shownName = displayText(name.trim());
    let connectionString = '';
    let authDatabase = 'admin';
    let tested: TestVerdict | undefined;
    let tls: TlsSettings;
    // Change Settings after a failed test comes back here, with the answers so far filled in.
    for (;;) {
      const answer = await input({
        title: 'Add Resource (3/5)',
        prompt: 'Connection string as the gateway reaches the database, without user name or password',
        placeHolder: 'mongodb://db.internal:27017/ or mongodb+srv://cluster.internal/',
        value: connectionString,
        validateInput: validateConnectionString,
      });
      if (answer === undefined) return;
      connectionString = answer.trim();
      const db = await input({
        title: 'Add Resource (4/5)',
        prompt: 'Database the accounts authenticate against',
        value: authDatabase,
        validateInput: validateName,
      });
      if (db === undefined) return;
      authDatabase = db.trim();
      const chosen = await askTls('Add Resource (5/5)', shownName);
      if (!chosen) return;
      tls = chosen;
      // An offline gateway cannot test: saved as is, and the message says it was not tested.
      if (!gateway.gateway.online) break;
      tested = await testBeforeSaving(`resource ${shownName}`, () =>
        client.testNewResourceConnection({
          projectId: project.id,
          name: name.trim(),
          gatewayId: gateway.gateway.id,
          connectionString,
          authDatabase,
          ...tls,
        }),
      );
      if (tested.kind === 'cancel') return;
      if (tested.kind !== 'change') break;
    }
    const resource = await client.createResource(project.id, {
      name: name.trim(),
      gatewayId: gateway.gateway.id,
      connectionString,
      authDatabase,
      ...tls,
    });
    this.changed();
    // Short, with the next step as a button: a notification with a button is shown whole.
    void vscode.window
      .showInformationMessage(
        `Resource ${displayText(resource.name)} added; ${testSummary(tested)}. Next, add the accounts users connect as.`,
        'Add Account',
      )
      .then((choice) => (choice === 'Add Account' ? this.addAccount({ kind: 'resource', resource }) : undefined))
      .then(undefined, showCommandError);
  }

  async editResource(item: unknown): Promise<void> {
    const resource = requireItem(item, 'resource').resource;
    const shownName = displayText(resource.name);
    const field = await vscode.window.showQuickPick(
      [
        { label: 'Name', description: shownName, key: 'name' as const },
        { label: 'Connection string', description: displayText(resource.connectionString), key: 'connectionString' as const },
        { label: 'Authentication database', description: displayText(resource.authDatabase), key: 'authDatabase' as const },
        { label: 'TLS', description: tlsDescription(resource), key: 'tls' as const },
      ],
      { title: `Edit Resource ${shownName}`, placeHolder: 'What to change', ignoreFocusOut: true },
    );
    if (!field) return;
    let patch: Partial<ResourceInput>;
    if (field.key === 'tls') {
      const tls = await askTls(`TLS for ${shownName}`, shownName, resource);
      if (!tls) return;
      patch = tls;
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
    const client = this.connection.requireClient();
    // A new name reaches nothing; an offline gateway cannot test.
    const testable = resource.gatewayOnline && field.key !== 'name';
    // The stored CA is never sent back by the server: with one kept, the settings can only be tested once saved.
    const keepsStoredCa = resource.hasCaCertificate && patch.caCertificate === undefined;
    if (testable && !keepsStoredCa) {
      const merged = { ...settingsOf(resource), ...patch };
      const verdict = await testBeforeSaving(`resource ${shownName}`, () =>
        client.testNewResourceConnection({ projectId: resource.projectId, name: resource.name, ...merged }),
      );
      if (verdict.kind === 'cancel' || verdict.kind === 'change') {
        if (verdict.kind === 'change')
          void vscode.window.showInformationMessage(`Nothing was saved; run Edit Resource on ${shownName} again.`);
        return;
      }
    }
    await client.updateResource(resource.id, patch);
    this.changed();
    if (testable && keepsStoredCa) await this.testSavedResource(resource, patch);
  }

  /** After saving settings that could not be tested before: test them, and offer to put the old ones back. */
  private async testSavedResource(resource: ResourceDto, patch: Partial<ResourceInput>): Promise<void> {
    const client = this.connection.requireClient();
    const shownName = displayText(resource.name);
    const outcome = await runConnectionTest(`resource ${shownName}`, () => client.testResourceConnection(resource.id));
    const revert = 'Put the Old Settings Back';
    if (await showTestResult(`resource ${shownName}`, outcome, revert)) {
      const previous = Object.fromEntries(
        Object.keys(patch).map((key) => [key, resource[key as keyof ResourceDto]]),
      ) as Partial<ResourceInput>;
      await client.updateResource(resource.id, previous);
      this.changed();
    }
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
    const client = this.connection.requireClient();
    let username = name.trim();
    let password: string | undefined;
    let tested: TestVerdict | undefined;
    // Change Settings after a failed test comes back here.
    for (;;) {
      const user = await input({
        title: `${title} (2/5)`,
        prompt: `Database user name (authenticates against ${displayText(resource.authDatabase)})`,
        value: username,
        validateInput: validateName,
      });
      if (user === undefined) return;
      username = user.trim();
      password = await input({
        title: `${title} (3/5)`,
        prompt: `Password of ${displayText(username)}; stored encrypted on the server and never shown again`,
        password: true,
        validateInput: (v) => (v.length > 0 ? undefined : 'enter the password'),
      });
      if (password === undefined) return;
      if (!resource.gatewayOnline) break;
      const secret = password;
      tested = await testBeforeSaving(`${displayText(resource.name)} as ${displayText(username)}`, () =>
        client.testResourceConnection(resource.id, { username, password: secret }),
      );
      if (tested.kind === 'cancel') return;
      if (tested.kind !== 'change') break;
    }
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
    const account = await client.createAccount(resource.id, {
      name: name.trim(),
      username,
      password,
      mfaRequired: mfa.mfaRequired,
      ...(minutes.trim() ? { maxSessionDurationSeconds: Math.round(Number(minutes) * 60) } : {}),
    });
    this.changed();
    void vscode.window.showInformationMessage(`Account ${displayText(account.name)} added; ${testSummary(tested)}.`);
  }

  /** Edit Account: description, password (tested by the gateway before it is saved), MFA, maximum duration, policy. */
  async editAccount(item: unknown): Promise<void> {
    const target = requireItem(item, 'account');
    const { account, resource } = target;
    const label = `${displayText(resource.name)} / ${displayText(account.name)}`;
    const field = await pickAccountField(account, label);
    if (!field) return;
    if (field === 'policy') return this.editAccountPolicy(target);
    const client = this.connection.requireClient();
    if (field !== 'password') {
      const patch = await askSimpleChange(field, account, label);
      if (!patch) return;
      await client.updateAccount(account.id, patch);
      this.changed();
      void vscode.window.showInformationMessage(`Account ${label}: ${describeChange(patch)}.`);
      return;
    }
    let problem: string | undefined;
    let tested: TestVerdict | undefined;
    let password: string | undefined;
    for (;;) {
      password = await askPassword(account, label, problem);
      if (password === undefined) return;
      if (!resource.gatewayOnline) break;
      const secret = password;
      tested = await testBeforeSaving(label, () => client.testAccountConnection(account.id, { password: secret }));
      if (tested.kind === 'cancel') return;
      if (tested.kind !== 'change') break;
      problem = 'The last password did not work.';
    }
    // Running sessions get it too, from their next connection (the server has their gateways fetch it again).
    await client.updateAccount(account.id, { password });
    this.changed();
    void vscode.window.showInformationMessage(`Password of ${label} saved; ${testSummary(tested)}.`);
  }

  /** Test Connection from the context menu: a resource (reaching it) or an account (signing in with its stored password). */
  async testConnection(item: unknown): Promise<void> {
    const kind = (item as { kind?: string } | undefined)?.kind;
    const client = this.connection.requireClient();
    if (kind === 'resource') {
      const { resource } = requireItem(item, 'resource');
      const subject = `resource ${displayText(resource.name)}`;
      const outcome = await runConnectionTest(subject, () => client.testResourceConnection(resource.id));
      if (await showTestResult(subject, outcome, 'Edit Resource')) await this.editResource(item);
      return;
    }
    const { account, resource } = requireItem(item, 'account');
    const subject = `${displayText(resource.name)} / ${displayText(account.name)}`;
    const outcome = await runConnectionTest(subject, () => client.testAccountConnection(account.id));
    if (await showTestResult(subject, outcome, 'Edit Account')) await this.editAccount(item);
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

/** Asks how the gateway uses TLS; a CA file choice opens a file dialog. Undefined when the user cancels. */
async function askTls(title: string, resourceName: string, current?: ResourceDto): Promise<TlsSettings | undefined> {
  const choices: TlsChoice[] = [...TLS_CHOICES];
  if (current?.hasCaCertificate) {
    choices[1] = { ...choices[1], description: 'against the stored CA file' };
    choices.push({
      label: 'TLS, verify against the system’s trusted CAs',
      detail: 'Removes the stored CA file',
      tlsEnabled: true,
      tlsRejectUnauthorized: true,
      removeCa: true,
    });
  }
  const tls = await vscode.window.showQuickPick(choices, { title, ignoreFocusOut: true });
  if (!tls) return undefined;
  const settings: TlsSettings = { tlsEnabled: tls.tlsEnabled, tlsRejectUnauthorized: tls.tlsRejectUnauthorized };
  if (tls.removeCa) settings.caCertificate = null;
  if (!tls.caFile) return settings;
  const [file] =
    (await vscode.window.showOpenDialog({
      title: `CA certificate (PEM) for ${resourceName}`,
      openLabel: 'Use This CA',
      canSelectMany: false,
      filters: { 'PEM certificates': ['pem', 'crt', 'cer'], 'All files': ['*'] },
    })) ?? [];
  if (!file) return undefined;
  const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
  settings.caCertificate = checkCaCertificate(text, file.path.split('/').pop() || 'the file');
  return settings;
}

function tlsDescription(resource: ResourceDto): string {
  if (!resource.tlsEnabled) return 'off';
  if (!resource.tlsRejectUnauthorized) return 'on, certificate not verified';
  return resource.hasCaCertificate ? 'on, verified against the stored CA file' : 'on';
}

/** A saved resource's settings, as the test of settings not saved yet takes them (without the stored CA). */
function settingsOf(resource: ResourceDto): Omit<ResourceInput, 'name'> {
  return {
    gatewayId: resource.gatewayId,
    connectionString: resource.connectionString,
    authDatabase: resource.authDatabase,
    tlsEnabled: resource.tlsEnabled,
    tlsRejectUnauthorized: resource.tlsRejectUnauthorized,
  };
}

/** How a saved setting fared in its test, in a few words for the confirmation. */
function testSummary(tested: TestVerdict | undefined): string {
  if (!tested) return 'not tested (gateway offline)';
  if (tested.kind === 'passed') return tested.result.stage === 'authenticate' ? 'sign-in tested OK' : 'connection tested OK';
  return 'saved despite the failed test';
}
