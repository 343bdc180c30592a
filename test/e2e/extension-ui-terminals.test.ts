/**
 * Terminals that tell the truth, Edit Account and Test Connection, in a real VS Code (code-server) against a real
 * control plane, gateway agent and FerretDB with SCRAM (the harness of extension-ui.test.ts). An admin: tests an
 * account's connection (the real gateway's answer, ok and a wrong stored password); gets the gateway's reason when
 * mongosh cannot sign in, with Open Session Log / Edit Account / End Session, and fixes the password with Edit Account
 * (Access then works, in the same session); stops a session and sees its terminal say so, then Reconnect (R) starts a
 * new session in the same terminal, whose command reaches the log. Screenshots go to test-artifacts/extension-ui-terminals/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type GatewayAgent, startGatewayAgent } from '../../gateway/agent/agent';
import { enrollGateway } from '../../gateway/agent/enroll';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { ApiClient, collectPages } from '../../proxy-core/api-client';
import { resolveConfig } from '../../server/config';
import { runServer } from '../../server/run-server';
import { type CodeServer, eventually, packageExtension, startCodeServer, textOf, Workbench } from '../bed/code-server';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { MONGOSH_BIN } from '../bed/mongosh';
import { removeTempDir, trackTempDir } from '../bed/processes';

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'extension-ui-terminals');
const MARKER = `term-${process.pid}`;
/** mongosh's prompt at the end of the terminal's text. */
const PROMPT = /\S+>\s*$/m;

describe('mongosh terminals, Edit Account and Test Connection in a real VS Code', () => {
  let ferret: FerretDBServer;
  let server: Awaited<ReturnType<typeof runServer>>;
  let gateway: GatewayAgent;
  let dataDir: string;
  let admin: ApiClient;
  let projectId: string;
  let codeServer: CodeServer;
  let ui: Workbench;

  before(async () => {
    const vsix = packageExtension();
    ferret = await startFerretDB();
    dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-ui-terminals-')));
    server = await runServer(resolveConfig({ dataDir, listenPort: 0, logger: false }));
    assert.ok(server.bootstrap);
    admin = new ApiClient({ server: server.url });
    admin.setToken((await admin.login(server.bootstrap)).token);
    projectId = (await admin.me()).projects[0].id;
    const { token } = await admin.createEnrollmentToken({ projectId, name: 'dc1' });
    const { credential, gatewayId } = await enrollGateway({ server: server.url, token, name: 'dc1' });
    gateway = await startGatewayAgent({ server: server.url, credential, name: 'dc1' });
    const resource = await admin.createResource(projectId, { name: 'orders', gatewayId, connectionString: ferret.uri, tlsEnabled: false });
    await admin.createAccount(resource.id, { name: 'reader', username: ferret.username, password: ferret.password });
    // As an admin who mistyped it would have stored it.
    await admin.createAccount(resource.id, { name: 'broken', username: ferret.username, password: `${ferret.password}-typo` });
    // Needs a second factor; this admin has no authenticator app and the server no SMTP.
    await admin.createAccount(resource.id, { name: 'guarded', username: ferret.username, password: ferret.password, mfaRequired: true });
    await eventually('gateway dc1 online', async () => ((await admin.listGateways(projectId)).some((g) => g.online) ? true : undefined));

    codeServer = await startCodeServer({
      vsix: [vsix],
      settings: {
        'portcullis.serverUrl': server.url,
        'portcullis.mongoshPath': MONGOSH_BIN,
        'portcullis.endSessionOnTerminalClose': 'never',
      },
      env: { MONGOSH_NO_UPDATE_CHECK: '1', DO_NOT_TRACK: '1' },
    });
    ui = await Workbench.open(codeServer, ARTIFACTS);
    await ui.page.locator('.activitybar .action-label[aria-label*="Portcullis"]').click();
    await ui.pane('Resources').locator('.welcome-view-content a.monaco-button', { hasText: 'Sign In' }).click({ timeout: 60_000 });
    await ui.answer('1/3');
    await ui.answer('2/3', server.bootstrap.email);
    await ui.answer('3/3', server.bootstrap.password);
    await ui.row('orders').click();
    await ui.row('broken').waitFor();
  });

  after(async () => {
    await ui?.close();
    await codeServer?.stop();
    await gateway?.stop();
    await server?.close();
    await ferret?.stop();
    if (dataDir) removeTempDir(dataDir);
  });

  /** Hovers an account row and clicks its inline Access. */
  async function access(account: string): Promise<void> {
    const row = ui.row(account);
    await row.hover();
    await row.locator('.action-label[aria-label="Access"]').click();
  }

  /** A notification's text is not cut off (VS Code shows a toast without buttons on one line, with an ellipsis). */
  async function assertShownWhole(toast: ReturnType<Workbench['notification']>): Promise<void> {
    const cut = await toast
      .locator('.notification-list-item-message')
      .evaluate((el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1);
    assert.equal(cut, false, `cut off: ${await textOf(toast)}`);
  }

  async function closeNotifications(): Promise<void> {
    await ui.page.keyboard.press('F1');
    await ui.quickInput().fill('>Notifications: Clear All Notifications');
    await ui.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Clear All Notifications' }).first().click();
    await ui.page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'detached' });
  }

  async function activeSession(accountName: string) {
    return eventually(`an active session on ${accountName}`, async () =>
      (await admin.listSessions({ projectId, state: 'active' })).items.find((s) => s.accountName === accountName),
    );
  }

  async function typeInTerminal(text: string): Promise<void> {
    await ui.terminal().click();
    await ui.page.keyboard.type(text);
    await ui.page.keyboard.press('Enter');
  }

  async function loggedFind(sessionId: string, marker: string) {
    return eventually(`the command with ${marker} in the log of ${sessionId}`, async () => {
      const events = await collectPages((cursor) => admin.getSessionLogs(sessionId, { cursor }));
      return events.find(
        (e): e is Extract<StoredSessionLogEvent, { kind: 'command' }> =>
          e.kind === 'command' && e.command === 'find' && e.input.includes(marker),
      );
    });
  }

  it('Test Connection on an account shows the real gateway’s answer: signed in, or the wrong stored password', async () => {
    await ui.contextMenu(ui.row('reader'), 'Test Connection');
    const ok = ui.notification(/orders \/ reader: connection OK \(SCRAM-SHA-\d+, \d+ ms\)\./);
    await ok.waitFor({ timeout: 60_000 });
    await assertShownWhole(ok);
    await ui.shot('test-connection-ok');
    await closeNotifications();

    await ui.contextMenu(ui.row('broken'), 'Test Connection');
    const dialog = ui.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60_000 });
    const text = await textOf(dialog);
    assert.match(text, /Test Connection of orders \/ broken failed\./);
    assert.match(text, /could not authenticate to the database of resource "orders" as .+: .*Check the account's stored password\./);
    assert.match(text, /Edit Account/);
    await ui.shot('test-connection-wrong-password');
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
    await dialog.waitFor({ state: 'detached' });
  });

  it('a wrong stored password: Access shows the gateway’s reason with its buttons, the terminal stays, and Edit Account fixes it', async () => {
    await access('broken');
    const failure = ui.notification(
      /mongosh could not connect to orders \/ broken: .*could not authenticate.*Check the account's stored password\./,
    );
    await failure.waitFor({ timeout: 60_000 });
    await assertShownWhole(failure);
    const buttons = await failure.locator('.monaco-button').allInnerTexts();
    assert.deepEqual(
      buttons.map((b) => b.trim()),
      ['Open Session Log', 'Edit Account', 'End Session'],
    );
    // The terminal did not vanish: mongosh's own error stays, with the reason and what to do under it.
    const terminalText = await eventually('the reason in the terminal', async () => {
      const shown = await ui.terminalText();
      return /mongosh could not connect to orders \/ broken\.[\s\S]*Press R to start mongosh again/.test(shown) ? shown : undefined;
    });
    assert.match(terminalText, /Check the account's stored password/);
    await ui.page.locator('.terminal-tabs-entry, .single-terminal-tab', { hasText: 'mongosh · orders / broken' }).first().waitFor();
    const session = await activeSession('broken');
    // For the screenshot: no tooltip over the tree, and the toast done sliding in.
    await ui.terminal().hover();
    await ui.page.waitForTimeout(800);
    await ui.shot('mongosh-early-exit');

    await failure.locator('.monaco-button', { hasText: 'Edit Account' }).click();
    await ui.pick('Edit Account orders / broken', 'Password');
    await eventually('the password prompt', async () => ((await ui.quickInputTitle()).includes('password') ? true : undefined));
    assert.equal(await ui.quickInput().getAttribute('type'), 'password');
    await ui.answer('Edit Account orders / broken: password', ferret.password);
    const saved = ui.notification(/Password of orders \/ broken saved; sign-in tested OK\./);
    await saved.waitFor({ timeout: 60_000 });
    await assertShownWhole(saved);
    await ui.shot('edit-account-password-saved');
    await closeNotifications();

    // Access again: the same session, mongosh started again in its terminal, and it works now.
    await access('broken');
    await eventually('the mongosh prompt', async () => (PROMPT.test(await ui.terminalText()) ? true : undefined), 60_000);
    await typeInTerminal(`db.getSiblingDB('uitest').probe.find({ marker: '${MARKER}-fixed' }).toArray()`);
    const logged = await loggedFind(session.id, `${MARKER}-fixed`);
    assert.equal(logged.outcome, 'ok');
    assert.equal((await activeSession('broken')).id, session.id, 'no second session');
    await ui.shot('access-after-edit-account');
  });

  it('a stopped session’s terminal says so; Reconnect (R) starts a new session in the same terminal, and it works', async () => {
    await access('reader');
    await ui.page
      .locator('.terminal-tabs-entry, .single-terminal-tab', { hasText: 'mongosh · orders / reader' })
      .first()
      .waitFor({ timeout: 60_000 });
    await eventually('the mongosh prompt', async () => (PROMPT.test(await ui.terminalText()) ? true : undefined), 60_000);
    const first = await activeSession('reader');

    const row = ui.row('reader');
    await row.hover();
    await row.locator('.action-label[aria-label="Stop Session"]').click();
    await eventually('the end in the terminal', async () =>
      /The session on orders \/ reader was stopped\.[\s\S]*Press R to reconnect \(a new session\), or C to close this terminal\./.test(
        await ui.terminalText(),
      )
        ? true
        : undefined,
    );
    await closeNotifications();
    await ui.terminal().hover();
    await ui.shot('terminal-session-ended');

    await ui.terminal().click();
    // Keys typed at once after the prompt appears are taken as meant for mongosh: wait a moment first.
    await new Promise((resolve) => setTimeout(resolve, 600));
    await ui.page.keyboard.press('r');
    const second = await eventually('a new session', async () => {
      const s = await activeSession('reader');
      return s.id !== first.id ? s : undefined;
    });
    await eventually(
      'mongosh on the new session',
      async () => {
        const shown = await ui.terminalText();
        return shown.includes(`new session ${second.id}`) && PROMPT.test(shown) ? true : undefined;
      },
      60_000,
    );
    const tabs = await ui.page.locator('.terminal-tabs-entry, .single-terminal-tab', { hasText: 'orders / reader' }).count();
    assert.equal(tabs, 1, 'the same terminal, not a new one');
    await typeInTerminal(`db.getSiblingDB('uitest').probe.find({ marker: '${MARKER}-again' }).toArray()`);
    assert.equal((await loggedFind(second.id, `${MARKER}-again`)).outcome, 'ok');
    assert.equal((await admin.getSession(first.id)).endReason, 'stopped');
    await ui.shot('terminal-reconnected');
  });
  it('MFA: an account that needs an authenticator app says so in VS Code terms, and its button opens Set Up Authenticator App', async () => {
    await closeNotifications().catch(() => undefined);
    await access('guarded');
    const needed = ui.notification(/orders \/ guarded needs a verification code|orders \/ guarded needs a code from an authenticator app/);
    await needed.waitFor({ timeout: 60_000 });
    const text = await textOf(needed);
    assert.doesNotMatch(text, /portcullis mfa/, 'no CLI command in the extension');
    await assertShownWhole(needed);
    await needed.locator('.monaco-button', { hasText: 'Set Up Authenticator App' }).click();
    // The enrollment opens in an editor tab of its own (a webview with the QR code).
    await ui.page.locator('.tabs-container .tab', { hasText: 'Set Up Authenticator App' }).first().waitFor({ timeout: 30_000 });
    assert.equal(
      (await admin.listSessions({ projectId, state: 'active' })).items.some((s) => s.accountName === 'guarded'),
      false,
    );
  });
});
