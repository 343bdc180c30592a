/**
 * The extension following sessions as they run and across an outage of the control plane, in a real VS Code
 * (code-server, driven with Playwright; the harness of extension-ui.test.ts): the session log document changes while
 * commands run through the tunnel and shows the final state once the session ends; a control-plane restart shows
 * "reconnecting…" and leaves no ghost active session; Stop in the Sessions view ends the user's session started
 * elsewhere. Screenshots go to test-artifacts/extension-ui-live/, and with PORTCULLIS_UPDATE_DOC_IMAGES=1 the ones the
 * README shows are written to docs/images/ too.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { type GatewayAgent, startGatewayAgent } from '../../gateway/agent/agent';
import { enrollGateway } from '../../gateway/agent/enroll';
import type { SessionDto } from '../../protocol/api';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { ApiClient } from '../../proxy-core/api-client';
import { type ControlPlaneConfig, resolveConfig } from '../../server/config';
import { runServer } from '../../server/run-server';
import { type CodeServer, eventually, packageExtension, startCodeServer, textOf, Workbench } from '../bed/code-server';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { MONGOSH_BIN } from '../bed/mongosh';
import { removeTempDir, trackTempDir } from '../bed/processes';

const ROOT = join(__dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'extension-ui-live');
const DOC_IMAGES = join(ROOT, 'docs', 'images');
const MARKER = `live-${process.pid}`;
/** Short, so that the outage outlasts it within the test's time: the session ends here and must not stay a ghost. */
const RECONNECT_TIMEOUT_SECONDS = 5;

describe('the extension follows sessions and outages in a real VS Code', () => {
  let ferret: FerretDBServer;
  let config: ControlPlaneConfig;
  let server: Awaited<ReturnType<typeof runServer>>;
  let gateway: GatewayAgent;
  let dataDir: string;
  let admin: ApiClient;
  let adminToken: string;
  let projectId: string;
  let accountId: string;
  let codeServer: CodeServer;
  let ui: Workbench;
  let elsewhere: AccessHandle | undefined;

  before(async () => {
    const vsix = packageExtension();
    ferret = await startFerretDB();
    dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-ui-live-')));
    config = resolveConfig({ dataDir, listenPort: 0, logger: false });
    server = await runServer(config);
    assert.ok(server.bootstrap, 'a fresh server creates its first admin');
    admin = new ApiClient({ server: server.url });
    adminToken = (await admin.login(server.bootstrap)).token;
    admin.setToken(adminToken);
    projectId = (await admin.me()).projects[0].id;
    const { token } = await admin.createEnrollmentToken({ projectId, name: 'dc1' });
    const { credential, gatewayId } = await enrollGateway({ server: server.url, token, name: 'dc1' });
    gateway = await startGatewayAgent({ server: server.url, credential, name: 'dc1', reconnect: { initialMs: 100, maxMs: 1000 } });
    const resource = await admin.createResource(projectId, { name: 'orders', gatewayId, connectionString: ferret.uri, tlsEnabled: false });
    accountId = (await admin.createAccount(resource.id, { name: 'reader', username: ferret.username, password: ferret.password })).id;
    codeServer = await startCodeServer({
      vsix: [vsix],
      settings: {
        'portcullis.serverUrl': server.url,
        'portcullis.mongoshPath': MONGOSH_BIN,
        'portcullis.endSessionOnTerminalClose': 'never',
        'portcullis.reconnectTimeoutSeconds': RECONNECT_TIMEOUT_SECONDS,
      },
      env: { MONGOSH_NO_UPDATE_CHECK: '1', DO_NOT_TRACK: '1' },
    });
    ui = await Workbench.open(codeServer, ARTIFACTS);
    await ui.page.locator('.activitybar .action-label[aria-label*="Portcullis"]').click();
    await ui.pane('Resources').locator('.welcome-view-content a.monaco-button', { hasText: 'Sign In' }).click({ timeout: 60_000 });
    await ui.answer('1/3');
    await ui.answer('2/3', server.bootstrap.email);
    await ui.answer('3/3', server.bootstrap.password);
    await ui.row('orders').waitFor({ timeout: 30_000 });
  });

  after(async () => {
    await elsewhere?.stop().catch(() => {});
    await ui?.close();
    await codeServer?.stop();
    await gateway?.stop();
    await server?.close();
    await ferret?.stop();
    if (dataDir) removeTempDir(dataDir);
  });

  /** A screenshot in the artifacts, and in docs/images when the README's images are being renewed. */
  async function docShot(name: string): Promise<void> {
    await ui.shot(name);
    if (process.env.PORTCULLIS_UPDATE_DOC_IMAGES !== '1') return;
    await ui.page.screenshot({ path: join(DOC_IMAGES, `${name}.png`) });
  }

  /** The text of the log editor's last screen: the end of the document is where a live log grows. */
  async function logTail(): Promise<string> {
    return logScreen('Control+End');
  }

  /** The text of the log editor's first screen: the header, with the session's state. */
  async function logHead(): Promise<string> {
    return logScreen('Control+Home');
  }

  async function logScreen(key: string): Promise<string> {
    const lines = ui.page.locator('.editor-instance .view-lines').first();
    await lines.click({ timeout: 2000 });
    await ui.page.keyboard.press(key);
    // The editor renders spaces as no-break spaces.
    return (await textOf(lines)).replace(/\u00a0/g, ' ');
  }

  const activeSession = async () =>
    (await admin.listSessions({ projectId, state: 'active' })).items.find(
      (s) => s.accountName === 'reader' && s.clientAgent?.includes('vscode'),
    );

  it('Enter on the account starts a session, and its log follows it: commands through the tunnel appear, the risky one marked, and the end', async () => {
    const { page } = ui;
    assert.match(
      await textOf(ui.pane('Resources').locator('.pane-header')),
      new RegExp(`admin@localhost on 127\\.0\\.0\\.1:${server.port}`),
    );
    // Enter on the account (its default command) runs Access.
    await ui.row('orders').click();
    await ui.row('reader').waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const session = await eventually('an active session from the extension', activeSession, 30_000);
    // The local address, from Copy Connection String (whose confirmation names it).
    const account = ui.row('reader', ui.pane('Resources'));
    await eventually('the account marked active', async () => ((await textOf(account)).includes('session active') ? true : undefined));
    await ui.contextMenu(account, 'Copy Connection String');
    await ui.pick('Copy Connection String', 'Connection string');
    const copied = ui.notification(
      /Copied mongodb:\/\/127\.0\.0\.1:\d+\/ \(Connection string\)\..*it needs no password while the session on orders \/ reader runs\./,
    );
    await copied.waitFor();
    const uri = (await textOf(copied)).match(/mongodb:\/\/127\.0\.0\.1:\d+\//)?.[0];
    assert.ok(uri, 'the confirmation names the address copied');

    const sessionRow = ui
      .pane('Sessions')
      .locator('.monaco-list-row', { hasText: /orders \/ reader\s*active/ })
      .first();
    // The view redraws when sessions change; a click that lands while its rows are replaced only selects. Click again.
    let clickedAt = 0;
    await eventually('the live log document', async () => {
      if (Date.now() - clickedAt > 5000) {
        await sessionRow.click({ timeout: 5000 });
        clickedAt = Date.now();
      }
      return (await logHead()).includes('this log follows it') ? true : undefined;
    });

    // The terminal is not needed here: the editor gets the height.
    await page.keyboard.press('F1');
    await ui.quickInput().fill('>View: Hide Panel');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'View: Hide Panel' }).first().click();

    // Commands through the tunnel, with the Node driver on the session's local address: no click, and they appear.
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
    try {
      const items = client.db('live').collection('items');
      await items.insertOne({ marker: MARKER });
      assert.equal((await items.findOne({ marker: MARKER }))?.marker, MARKER);
      // The find's filter is in the log as it was sent (the inserted document is only counted).
      await eventually('the insert and the find in the open log', async () => {
        const text = await logTail();
        return /live\.items\s+insert: ok/.test(text) && /live\.items\s+find: ok, 1 document/.test(text) && text.includes(MARKER)
          ? true
          : undefined;
      });
      await items.deleteMany({});
    } finally {
      await client.close();
    }
    const tail = await eventually('the flagged delete in the open log', async () => {
      const text = await logTail();
      return /!!\s*\d\d:\d\d:\d\d\s+live\.items\s+delete: ok/.test(text) && text.includes('empty-filter-write (high)') ? text : undefined;
    });
    assert.doesNotMatch(tail, /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, 'no ISO UTC time');
    await docShot('extension-session-log-live');

    // The session ends (stopped from the status bar's list): the open log shows the final state by itself.
    await page.locator('.statusbar-item', { hasText: '1 Portcullis session' }).first().click();
    const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'orders / reader' }).first();
    await pick.hover();
    await pick.locator('.action-label[aria-label="Stop Session"]').click();
    await eventually('the final state in the open log', async () => {
      // The last line, wrapped at the document's width.
      const text = (await logTail()).replace(/\s*\n\s*/g, ' ');
      const ended = /Session ended \(stopped\) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d after \d+s: \d+ commands on \d+ connections?\./;
      return ended.test(text) ? text : undefined;
    });
    assert.match(await logHead(), /State:\s+ended \(stopped\)\n/);
    assert.equal((await admin.getSession(session.id)).state, 'ended');
    await docShot('extension-session-log');
  });

  it('a control-plane restart shows "reconnecting…"; the session given up meanwhile is stopped at the server: no ghost', async () => {
    const { page } = ui;
    // The Resources tree stays expanded through it all: the account row is there without a click.
    const reader = ui.row('reader', ui.pane('Resources'));
    await reader.click();
    await page.locator('.statusbar-item', { hasText: '1 Portcullis session' }).first().waitFor({ timeout: 30_000 });
    const session: SessionDto = await eventually('the new session on the server', activeSession);

    const port = server.port;
    await server.close();
    const status = page.locator('.statusbar-item', { hasText: 'reconnecting…' }).first();
    await status.waitFor({ timeout: 15_000 });
    await eventually('the Sessions view saying it reconnects', async () =>
      (await textOf(ui.pane('Sessions'))).includes(`Reconnecting to ${server.url}…`) ? true : undefined,
    );
    await docShot('extension-reconnecting');
    // Longer than the reconnect timeout: the session ends here, in one message saying why and what to do.
    await ui.notification(/orders \/ reader ended: the control plane could not be reached/).waitFor({ timeout: 30_000 });

    server = await runServer({ ...config, listenPort: port });
    await status.waitFor({ state: 'hidden', timeout: 15_000 });
    const settled = await eventually('the given-up session ended at the server', async () => {
      const s = await admin.getSession(session.id);
      return s.state !== 'active' ? s : undefined;
    });
    assert.equal(settled.state, 'ended');
    assert.equal(settled.endReason, 'stopped');
    assert.equal(await activeSession(), undefined, 'no ghost active session');
    await eventually('the Sessions view showing it ended', async () => {
      const rows = await textOf(ui.pane('Sessions'));
      return !/orders \/ reader\s*(active|reconnecting)/.test(rows) && !rows.includes('Reconnecting to') ? true : undefined;
    });
    assert.ok(await reader.isVisible(), 'the Resources tree kept its expansion');
    await ui.shot('after-restart');
  });

  it('Stop in the Sessions view ends the user’s own session started elsewhere', async () => {
    // Whatever an earlier failure left running would be listed too.
    for (const s of (await admin.listSessions({ projectId, state: 'active' })).items) await admin.stopSession(s.id);
    elsewhere = await startAccess({
      server: server.url,
      token: adminToken,
      accountId,
      clientAgent: 'portcullis-cli/elsewhere',
      pollIntervalMs: 500,
    });
    const ended = new Promise<string>((resolve) => elsewhere?.once('ended', (e) => resolve(e.reason)));
    const sessions = ui.pane('Sessions');
    // Title actions show while the pointer is over the view.
    await sessions.locator('.pane-header').hover();
    await sessions.locator('.pane-header .action-label[aria-label="Refresh"]').click();
    const row = sessions.locator('.monaco-list-row', { hasText: /orders \/ reader\s*active/ }).first();
    await row.hover({ timeout: 30_000 });
    await row.locator('.action-label[aria-label="Stop Session"]').click();
    const dialog = ui.page.locator('.monaco-dialog-box');
    await dialog.waitFor();
    assert.match(await textOf(dialog), /Stop your session on orders \/ reader\?/);
    await ui.shot('stop-elsewhere-confirmation');
    await dialog.locator('.monaco-button', { hasText: 'Stop Session' }).first().click();
    assert.equal(await ended, 'stopped', 'the client elsewhere learns that its session was stopped');
    const s = await admin.getSession(elsewhere.session.id);
    assert.equal(s.state, 'ended');
    assert.equal(s.endReason, 'stopped');
    await ui.notification(/Stopped your session on orders \/ reader\./).waitFor();
  });
});
