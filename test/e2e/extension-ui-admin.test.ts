/**
 * Admin actions of the VS Code extension in a real VS Code (code-server), against a real control plane: the
 * welcome view of an empty project, Add Resource (its gateway enrolled but not running, so it shows offline),
 * Add Account with a masked password box, Delete Account behind a modal confirmation, and access requests: the
 * admin approves a member's request from the Access Requests view, then, signed in as the member, an Access waits
 * for an admin's approval. Every change is checked at the server. Screenshots go to test-artifacts/extension-ui-admin/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type GatewayAgent, startGatewayAgent } from '../../gateway/agent/agent';
import { enrollGateway } from '../../gateway/agent/enroll';
import type { AccessResponse } from '../../protocol/api';
import { ApiClient } from '../../proxy-core/api-client';
import { resolveConfig } from '../../server/config';
import { runServer } from '../../server/run-server';
import { type CodeServer, eventually, packageExtension, startCodeServer, textOf, Workbench } from '../bed/code-server';
import { removeTempDir, trackTempDir } from '../bed/processes';
import { accessBody } from '../bed/tunnel-key';

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'extension-ui-admin');
const MEMBER = { email: 'member@example.com', password: 'Member-Pa55word-never-shown' };

describe('admin actions in the VS Code extension', () => {
  let server: Awaited<ReturnType<typeof runServer>>;
  let dataDir: string;
  let admin: ApiClient;
  let projectId: string;
  let codeServer: CodeServer;
  let ui: Workbench;
  let gateway: GatewayAgent | undefined;

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

    codeServer = await startCodeServer({
      vsix: [vsix],
      // No database behind these resources: a session Access starts is checked at the server, and mongosh not started.
      settings: { 'portcullis.serverUrl': server.url, 'portcullis.mongoshPath': '/nonexistent/mongosh' },
    });
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
    await gateway?.stop();
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

  it('Access Requests: the admin approves a member’s request from the view; the member’s Access waits until an admin approves', async () => {
    // Access needs the resource's gateway online, even to open a request.
    const { token } = await admin.createEnrollmentToken({ projectId, name: 'dc1' });
    const enrolled = await enrollGateway({ server: server.url, token, name: 'dc1' });
    gateway = await startGatewayAgent({ server: server.url, credential: enrolled.credential, name: 'dc1' });
    await eventually('gateway dc1 online', async () =>
      (await admin.listGateways(projectId)).some((g) => g.name === 'dc1' && g.online) ? true : undefined,
    );
    const resource = await admin.createResource(projectId, {
      name: 'payments',
      gatewayId: enrolled.gatewayId,
      connectionString: 'mongodb://127.0.0.1:9/',
      tlsEnabled: false,
    });
    const guarded = { username: 'app', password: 'a-database-password', policy: { approvalRequired: true } };
    const ledger = await admin.createAccount(resource.id, { name: 'ledger', ...guarded });
    await admin.createAccount(resource.id, { name: 'audit', ...guarded });
    await admin.addMember(projectId, { email: MEMBER.email, role: 'member', password: MEMBER.password });
    const member = new ApiClient({ server: server.url });
    const memberToken = (await member.login(MEMBER)).token;
    member.setToken(memberToken);

    // The member asks through the API: 202, a request waits.
    const asked = await fetch(`${server.url}/api/v1/accounts/${ledger.id}/access`, {
      method: 'POST',
      headers: { authorization: `Bearer ${memberToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(accessBody({ reason: 'INC-7: reconcile the ledger' })),
    });
    assert.equal(asked.status, 202);
    const answer = (await asked.json()) as AccessResponse;
    assert.equal(answer.kind, 'approval');
    const requestId = answer.kind === 'approval' ? answer.request.id : '';

    // The admin sees it in the Access Requests view (its own Refresh), with the count on the activity bar.
    const inbox = ui.pane('Access Requests');
    await inbox.locator('.pane-header').hover();
    await inbox.locator('.pane-header .action-label[aria-label="Refresh"]').click();
    const requestRow = ui.row('payments / ledger', inbox);
    await eventually('the request in the inbox', async () =>
      /member@example\.com · INC-7: reconcile the ledger/.test(await textOf(requestRow)) ? true : undefined,
    );
    const badge = ui.page.locator('.activitybar .action-item', { has: ui.page.locator('[aria-label*="Portcullis"]') }).locator('.badge');
    await eventually('the badge counting one request', async () => ((await textOf(badge)).trim() === '1' ? true : undefined));
    await requestRow.hover();
    await ui.shot('access-request-inbox');
    await requestRow.locator('.action-label[aria-label="Approve"]').click();
    await ui.answer('Approve member@example.com', 'ok for INC-7');
    await ui.notification(/Approved member@example\.com's access to payments \/ ledger/).waitFor();
    const approved = await member.getAccessRequest(requestId);
    assert.equal(approved.state, 'approved');
    assert.equal(approved.decidedByEmail, server.bootstrap!.email);
    assert.equal(approved.note, 'ok for INC-7');
    await eventually('the inbox emptied', async () => ((await textOf(inbox)).includes('No access requests waiting.') ? true : undefined));
    await eventually('the badge gone', async () => ((await textOf(badge)).trim() === '' ? true : undefined));
    await ui.shot('access-request-approved');

    // Signed in as the member: Access on another account that requires approval asks why, then waits, cancellably.
    await ui.page.keyboard.press('F1');
    await ui.quickInput().fill('>Portcullis: Sign Out');
    await ui.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Portcullis: Sign Out' }).first().click();
    await ui.pane('Resources').locator('.welcome-view-content a.monaco-button', { hasText: 'Sign In' }).click();
    await ui.answer('1/3');
    await ui.answer('2/3', MEMBER.email);
    await ui.answer('3/3', MEMBER.password);
    const resources = ui.pane('Resources');
    await ui.row('payments', resources).click();
    const audit = ui.row('audit', resources);
    await eventually('the account marked', async () => ((await textOf(audit)).includes('approval required') ? true : undefined));
    await audit.hover();
    await audit.locator('.action-label[aria-label="Access"]').click();
    await ui.answer('access to payments / audit', 'INC-8: check the audit trail');
    const waiting = ui.notification(/waiting for an admin to approve access to payments \/ audit \(request req_/);
    await waiting.waitFor();
    assert.ok(await waiting.locator('.monaco-button', { hasText: 'Cancel' }).count(), 'the waiting notification has Cancel');
    await eventually('the member’s own request in the inbox', async () =>
      /payments \/ audit\s*waiting for approval/.test(await textOf(inbox)) ? true : undefined,
    );
    await ui.shot('access-waiting-for-approval');

    // Another admin approves through the API: the wait ends and the session starts under the grant.
    const pending = (await admin.listAccessRequests({ projectId, state: 'pending' })).items.find((r) => r.accountName === 'audit');
    assert.ok(pending, 'the member’s Access opened a request');
    assert.equal(pending.reason, 'INC-8: check the audit trail');
    await admin.approveAccessRequest(pending.id);
    const session = await eventually('the member’s session under the grant', async () =>
      (await admin.listSessions({ projectId, state: 'active' })).items.find((s) => s.accessRequestId === pending.id),
    );
    assert.equal(session.userEmail, MEMBER.email);
    assert.equal(session.reason, 'INC-8: check the audit trail');
    await waiting.waitFor({ state: 'detached' });
    await ui.notification(/mongosh was not found .* the session is running at mongodb:\/\/127\.0\.0\.1:\d+\//).waitFor();
    await ui.shot('access-approved-session-started');
    await member.stopSession(session.id);
  });
});
