/**
 * Admin actions of the VS Code extension in a real VS Code (code-server), against a real control plane: the
 * welcome view of an empty project, Add Resource (its gateway enrolled but not running, so it shows offline),
 * Add Account with a masked password box, Delete Account behind a modal confirmation. Every change is checked
 * at the server. Screenshots go to test-artifacts/extension-ui-admin/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { enrollGateway } from '../../gateway/agent/enroll';
import { ApiClient } from '../../proxy-core/api-client';
import { resolveConfig } from '../../server/config';
import { runServer } from '../../server/run-server';
import { type CodeServer, eventually, packageExtension, startCodeServer, textOf, Workbench } from '../bed/code-server';
import { removeTempDir, trackTempDir } from '../bed/processes';

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'extension-ui-admin');

describe('admin actions in the VS Code extension', () => {
  let server: Awaited<ReturnType<typeof runServer>>;
  let dataDir: string;
  let admin: ApiClient;
  let projectId: string;
  let codeServer: CodeServer;
  let ui: Workbench;

  before(async () => {
    const vsix = packageExtension();
    dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-ui-admin-')));
    server = await runServer(resolveConfig({ dataDir, listenPort: 0, logger: false }));
    assert.ok(server.bootstrap);
    admin = new ApiClient({ server: server.url });
    admin.setToken((await admin.login(server.bootstrap)).token);
    projectId = (await admin.me()).projects[0].id;
    const { token } = await admin.createEnrollmentToken({ projectId, name: 'dc2' });
    await enrollGateway({ server: server.url, token, name: 'dc2' });

    codeServer = await startCodeServer({ vsix: [vsix], settings: { 'portcullis.serverUrl': server.url } });
    ui = await Workbench.open(codeServer, ARTIFACTS);
    await ui.page.locator('.activitybar .action-label[aria-label*="Portcullis"]').click();
    await ui.pane('Resources').locator('.welcome-view-content a.monaco-button', { hasText: 'Sign In' }).click({ timeout: 60_000 });
    await ui.answer('1/3');
    await ui.answer('2/3', server.bootstrap.email);
    await ui.answer('3/3', server.bootstrap.password);
  });

  after(async () => {
    await ui?.close();
    await codeServer?.stop();
    await server?.close();
    if (dataDir) removeTempDir(dataDir);
  });

  it('an empty project shows an explanation and, for admins, Add Resource; the resource it adds shows its gateway offline', async () => {
    const welcome = ui.pane('Resources').locator('.welcome-view-content');
    await eventually('the no-resources welcome', async () =>
      (await textOf(welcome)).includes('There are no resources yet') ? true : undefined,
    );
    await ui.shot('no-resources-welcome');
    await welcome.locator('a.monaco-button', { hasText: 'Add Resource' }).click();
    await ui.answer('Add Resource (1/5)', 'billing');
    await ui.pick('Add Resource (2/5)', 'dc2');
    await ui.answer('Add Resource (3/5)', 'mongodb://db.internal:27017/');
    await ui.answer('Add Resource (4/5)');
    await ui.pick('Add Resource (5/5)', 'No TLS');
    const resourceRow = ui.row('billing');
    await eventually('the new resource, gateway offline', async () =>
      (await textOf(resourceRow)).includes('gateway dc2 offline') ? true : undefined,
    );
    await ui.shot('resource-added');
    const [resource] = (await admin.listResources({ projectId })).items;
    assert.equal(resource.name, 'billing');
    assert.equal(resource.connectionString, 'mongodb://db.internal:27017/');
    assert.equal(resource.authDatabase, 'admin');
    assert.equal(resource.tlsEnabled, false);
  });

  it('Add Account asks for the password in a masked box; Delete Account asks for confirmation first', async () => {
    await ui.contextMenu(ui.row('billing'), 'Add Account');
    await ui.answer('(1/5)', 'writer');
    await ui.answer('(2/5)', 'billing_writer');
    await eventually('the password prompt', async () => ((await ui.quickInputTitle()).includes('(3/5)') ? true : undefined));
    assert.equal(await ui.quickInput().getAttribute('type'), 'password');
    await ui.answer('(3/5)', 'a-database-password');
    await ui.pick('(4/5)', 'Require a verification code');
    await ui.answer('(5/5)', '15');
    await ui.row('billing').click();
    const accountRow = ui.row('writer');
    await eventually('the new account with MFA shown', async () =>
      (await textOf(accountRow)).includes('MFA required') ? true : undefined,
    );
    await ui.shot('account-added');
    const [resource] = (await admin.listResources({ projectId })).items;
    const [account] = (await admin.listAccounts(resource.id)).items;
    assert.equal(account.username, 'billing_writer');
    assert.equal(account.mfaRequired, true);
    assert.equal(account.maxSessionDurationSeconds, 900);
    assert.ok(!JSON.stringify(account).includes('a-database-password'), 'the API never returns the password');

    await ui.contextMenu(accountRow, 'Delete Account');
    const dialog = ui.page.locator('.monaco-dialog-box');
    await dialog.waitFor();
    assert.match(await textOf(dialog), /Delete account writer of billing\?/);
    await ui.shot('delete-account-confirmation');
    await dialog.locator('.monaco-button', { hasText: 'Delete' }).first().click();
    await accountRow.waitFor({ state: 'detached' });
    assert.deepEqual((await admin.listAccounts(resource.id)).items, []);
  });
});
