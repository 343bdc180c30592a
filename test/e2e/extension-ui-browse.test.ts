/**
 * Browsing data under a running session, in a real VS Code (code-server, the packaged .vsix, Playwright in Chromium)
 * against a real control plane, gateway agent and FerretDB with SCRAM: after Access, a collection made through mongosh
 * in the terminal shows under the account with its count and its indexes; clicking it opens its first documents as a
 * read-only JSON document, whose Load more lens reads the next page; the session log has every command the browse ran.
 * Screenshots go to test-artifacts/extension-ui-browse/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type GatewayAgent, startGatewayAgent } from '../../gateway/agent/agent';
import { enrollGateway } from '../../gateway/agent/enroll';
import type { CommandEvent } from '../../protocol/session-log';
import { ApiClient, collectPages } from '../../proxy-core/api-client';
import { resolveConfig } from '../../server/config';
import { runServer } from '../../server/run-server';
import { type CodeServer, eventually, packageExtension, startCodeServer, textOf, Workbench } from '../bed/code-server';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { MONGOSH_BIN } from '../bed/mongosh';
import { removeTempDir, trackTempDir } from '../bed/processes';

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'extension-ui-browse');

describe('browsing data under a session in a real VS Code', () => {
  let ferret: FerretDBServer;
  let server: Awaited<ReturnType<typeof runServer>>;
  let gateway: GatewayAgent;
  let dataDir: string;
  let admin: ApiClient;
  let projectId: string;
  let codeServer: CodeServer;
  let ui: Workbench;
  let sessionId: string;

  before(async () => {
    const vsix = packageExtension();
    ferret = await startFerretDB();
    dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-ui-browse-')));
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
    await ui.row('orders').waitFor({ timeout: 30_000 });
  });

  after(async () => {
    await ui?.close();
    await codeServer?.stop();
    await gateway?.stop();
    await server?.close();
    await ferret?.stop();
    if (dataDir) removeTempDir(dataDir);
  });

  /** The editor's visible lines as text (VS Code renders spaces as no-break spaces). */
  async function editorText(): Promise<string> {
    return (await textOf(ui.page.locator('.editor-instance .view-lines').first())).replace(/\u00a0/g, ' ');
  }

  /** Expands a tree row by its twistie (a row with a command runs it when its label is clicked). */
  async function expand(label: string | RegExp): Promise<void> {
    const row = ui.row(label, ui.pane('Resources'));
    await row.waitFor({ timeout: 30_000 });
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
  }

  it('after Access, a collection created in the mongosh terminal shows under the account with its count and indexes', async () => {
    const { page } = ui;
    await ui.row('orders').click();
    const account = ui.row('reader');
    await account.hover();
    await account.locator('.action-label[aria-label="Access"]').click();
    await eventually('the mongosh prompt', async () => ((await ui.terminalText()).match(/\S+>\s*$/m) ? true : undefined), 60_000);
    await ui.terminal().click();
    await page.keyboard.type(
      "db.getSiblingDB('shop').items.insertMany(Array.from({ length: 45 }, (_, i) => ({ _id: i + 1, sku: 'sku-' + (i + 1) }))).acknowledged && " +
        "db.getSiblingDB('shop').items.createIndex({ sku: 1 }, { unique: true, name: 'sku_unique' })",
    );
    await page.keyboard.press('Enter');
    // The index's name on a line of its own is mongosh's answer (the typed line holds it too, quoted).
    await eventually('the index created', async () => (/^sku_unique\s*$/m.test(await ui.terminalText()) ? true : undefined), 30_000);
    sessionId = (
      await eventually('the active session', async () =>
        (await admin.listSessions({ projectId, state: 'active' })).items.find((s) => s.accountName === 'reader'),
      )
    ).id;

    // The account, now with a running session, expands to the databases read through it.
    await expand(/^reader/);
    await expand(/^shop/);
    const items = ui.row(/^items/, ui.pane('Resources'));
    await eventually('the collection with its count', async () => ((await textOf(items)).includes('45 documents') ? true : undefined));
    await expand(/^items/);
    const index = ui.row(/^sku_unique/, ui.pane('Resources'));
    await eventually('the unique index', async () => ((await textOf(index)).includes('{ sku: 1 } · unique') ? true : undefined));
    assert.match(await textOf(ui.row(/^_id_/, ui.pane('Resources'))), /\{ _id: 1 \}/);
    await ui.shot('browse-tree');
  });

  it('clicking the collection opens its first 20 documents as read-only JSON; Load more reads the next page', async () => {
    const { page } = ui;
    await ui
      .row(/^items/, ui.pane('Resources'))
      .locator('.label-name')
      .click();
    await page.locator('.tab', { hasText: 'shop.items.json' }).first().waitFor({ timeout: 30_000 });
    const editor = page.locator('.editor-instance .view-lines').first();
    await eventually('the first documents', async () => ((await editorText()).includes('"sku": "sku-1"') ? true : undefined));
    await page
      .locator('.statusbar-item', { hasText: /^JSON$/ })
      .first()
      .waitFor();
    const summary = page.locator('.codelens-decoration', { hasText: 'shop.items through orders / reader' }).first();
    await eventually('the summary lens', async () => ((await textOf(summary)).includes('20 documents in _id order') ? true : undefined));
    // The panel (the terminal) closed, for a screenshot of the tree beside the document.
    await editor.click();
    await page.keyboard.press('Control+J');
    await ui.shot('browse-documents');

    // Read-only: typing changes nothing.
    const shown = await editorText();
    await page.keyboard.type('x');
    assert.equal(await editorText(), shown, 'the document did not take the keystroke');

    await page.keyboard.press('Control+End');
    const loadMore = page.locator('.codelens-decoration a', { hasText: 'Load 20 more' }).first();
    await loadMore.waitFor({ timeout: 10_000 });
    await ui.shot('browse-load-more-lens');
    await loadMore.click();
    // The page is appended where the lens was; the editor keeps its place, so look at the end again.
    await eventually('the second page', async () => {
      await page.keyboard.press('Control+End');
      return (await editorText()).includes('"sku": "sku-40"') ? true : undefined;
    });
    await loadMore.waitFor({ timeout: 10_000 }); // 5 documents more still
    await page.keyboard.press('Control+Home');
    await eventually('the summary counting 40', async () =>
      (await textOf(summary)).includes('40 documents in _id order') ? true : undefined,
    );
    await ui.shot('browse-load-more');
  });

  it('the session log has the commands the browse ran: listDatabases, listCollections, count, listIndexes and find', async () => {
    const commands = await eventually('the browse commands in the session log', async () => {
      const events = await collectPages((cursor) => admin.getSessionLogs(sessionId, { cursor }));
      const found = events.filter((e): e is CommandEvent & { sessionId: string; seq: number } => e.kind === 'command');
      return found.some((c) => c.command === 'find' && c.input.includes('"skip":20')) ? found : undefined;
    });
    const ran = new Set(commands.map((c) => `${c.command} ${c.database}${c.collection ? `.${c.collection}` : ''}`));
    for (const expected of [
      'listDatabases admin',
      'listCollections shop',
      'count shop.items',
      'listIndexes shop.items',
      'find shop.items',
    ]) {
      assert.ok(ran.has(expected), `${expected} in ${[...ran].join(', ')}`);
    }
    const finds = commands.filter((c) => c.command === 'find' && c.collection === 'items');
    assert.ok(finds.length >= 2, 'the first page and the next');
    assert.ok(
      finds.every((c) => c.outcome === 'ok'),
      JSON.stringify(finds),
    );
  });
});
