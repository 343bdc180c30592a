/**
 * Browsing in the Resources view, with the extension's controllers on the VS Code stand-in and everything else real:
 * the control plane, a gateway agent, FerretDB with SCRAM, and proxy-core's startAccess, which Access runs as it
 * does in VS Code. Covers the tree under an account (databases, collections with counts, indexes, error lines), the
 * read-only JSON document with Load more, Copy Connection String, and what a session's end does to all of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import type { CommandEvent } from '../../protocol/session-log';
import { loggedCommands, startTunnelBed, type TunnelBed, waitFor } from '../../test/e2e/tunnel-harness';
import type { AccountTreeItem } from '../explorer/account-tree-item';
import type { ResourcesNode } from '../explorer/resources-tree-provider';
import type { PortcullisController } from '../portcullis-controller';
import { closeDocument, makeExtensionContext, mock, resetMock, settle } from '../test/vscode-mock';
import type { BrowseDataSource } from './browse-data-source';
import type { DocumentsCodeLensProvider } from './documents-code-lens-provider';

let bed: TunnelBed;
let controller: PortcullisController;
let source: BrowseDataSource;

async function children(element?: ResourcesNode): Promise<ResourcesNode[]> {
  return controller.resourcesTree.getChildren(element);
}

async function account(name: string): Promise<AccountTreeItem> {
  const [resource] = await children();
  const found = (await children(resource)).find((item) => item.label === name);
  assert.ok(found, `account ${name}`);
  return found as AccountTreeItem;
}

async function child(element: ResourcesNode, label: string): Promise<ResourcesNode> {
  const all = await children(element);
  const found = all.find((item) => item.label === label);
  assert.ok(found, `${label} under ${element.label}: ${all.map((i) => i.label).join(', ')}`);
  return found;
}

const summary = (items: ResourcesNode[]) => items.map((i) => [i.label, i.description, i.contextValue]);

async function access(name: string): Promise<string> {
  await mock.commands.get('portcullis.access')!(await account(name));
  const session = controller.book.list().find((s) => s.accountName === name);
  assert.ok(session, `a session of ${name} in this window`);
  return session.id;
}

function codeLenses(uri: unknown) {
  const provider = mock.codeLensProviders[0].provider as DocumentsCodeLensProvider;
  return provider.provideCodeLenses({ uri, lineCount: 3 } as never).map((lens) => lens.command!);
}

describe('browsing data under a running session in the Resources view', () => {
  let sessionId: string;

  before(async () => {
    bed = await startTunnelBed();
    const direct = new MongoClient(bed.db.adminUri);
    try {
      const items = direct.db('shop').collection<{ _id: number; sku: string; at: Date }>('items');
      await items.insertMany(
        Array.from({ length: 45 }, (_, i) => ({ _id: i + 1, sku: `sku-${i + 1}`, at: new Date(Date.UTC(2026, 0, 1, 0, i)) })),
      );
      await items.createIndex({ sku: 1 }, { unique: true, name: 'sku_unique' });
      await direct.db('shop').createCollection('empty');
    } finally {
      await direct.close();
    }
    await bed.api.createAccount(bed.account.resourceId, {
      name: 'limited',
      username: bed.db.username,
      password: bed.db.password,
      policy: { databases: ['shop'], denied: ['listIndexes'] },
    });

    resetMock();
    mock.configuration.set('portcullis.serverUrl', bed.server);
    // No terminal is needed here: any executable stands in for mongosh.
    mock.configuration.set('portcullis.mongoshPath', process.execPath);
    const { PortcullisController } = await import('../portcullis-controller');
    const { startAccessForExtension } = await import('../sessions/start-access');
    const { BrowseDataSource } = await import('./browse-data-source');
    source = new BrowseDataSource();
    const context = makeExtensionContext();
    context.storedSecrets.set(`portcullis.token:${bed.server}`, bed.token);
    controller = new PortcullisController(context as never, { startAccess: startAccessForExtension, browseSource: source });
    await controller.activate();
  });

  after(async () => {
    await controller?.deactivate();
    await source?.closeAll();
    await bed?.stop();
  });

  it('an account is a leaf until Access; then it expands to databases, collections with counts and indexes, with stable ids', async () => {
    const before = await account('setup-admin');
    assert.equal(before.collapsibleState, 0, 'no session: a leaf');
    assert.deepEqual(await children(before), []);

    sessionId = await access('setup-admin');
    const active = await account('setup-admin');
    assert.equal(active.collapsibleState, 1, 'collapsed, expandable');
    assert.equal(active.id, before.id, 'the same id as before, so VS Code keeps its place');
    const shop = await child(active, 'shop');
    assert.equal(shop.id, `browse:${sessionId}:shop`);
    assert.equal(shop.collapsibleState, 1);
    const collections = await children(shop);
    assert.deepEqual(summary(collections), [
      ['empty', '0 documents', 'browse.collection'],
      ['items', '45 documents', 'browse.collection'],
    ]);
    const items = collections[1];
    assert.equal(items.id, `browse:${sessionId}:shop:items`);
    assert.equal(items.command?.command, 'portcullis.openCollection');
    const indexes = await children(items);
    assert.deepEqual(summary(indexes), [
      ['_id_', '{ _id: 1 }', 'browse.index'],
      ['sku_unique', '{ sku: 1 } · unique', 'browse.index'],
    ]);
    assert.equal(indexes[1].id, `browse:${sessionId}:shop:items:index:sku_unique`);
    assert.deepEqual(await children(indexes[0]), []);
  });

  it('opens a collection as a read-only JSON document of its first 20 documents; Load more appends pages until the end', async () => {
    const items = await child(await child(await account('setup-admin'), 'shop'), 'items');
    await mock.commands.get('portcullis.openCollection')!(items);
    assert.equal(mock.messages.filter((m) => m.severity === 'error').length, 0, JSON.stringify(mock.messages));
    const [opened] = mock.documents;
    assert.equal(opened.uri.scheme, 'portcullis-browse');
    assert.match(opened.uri.path, /\/shop\.items\.json$/, 'a .json path: VS Code opens it in JSON mode');
    const firstPage = JSON.parse(opened.text) as Array<Record<string, unknown>>;
    assert.equal(firstPage.length, 20);
    // Extended JSON, relaxed: plain numbers, dates as {"$date": ISO}.
    assert.deepEqual(firstPage[0], { _id: 1, sku: 'sku-1', at: { $date: '2026-01-01T00:00:00Z' } });
    assert.match(opened.text, /^\[\n {2}\{\n {4}"_id": 1,/);

    let lenses = codeLenses(opened.uri);
    assert.equal(lenses[0].title, 'shop.items through ferret / setup-admin: 20 documents in _id order, read-only');
    assert.equal(lenses[0].command, '', 'the summary is text, not a link');
    assert.equal(lenses[1].title, 'Load 20 more');
    assert.equal(lenses[1].command, 'portcullis.loadMoreDocuments');

    const provider = mock.contentProviders.get('portcullis-browse')!;
    const shown = async () => JSON.parse(String(await provider.provideTextDocumentContent(opened.uri))) as Array<{ _id: number }>;
    await mock.commands.get(lenses[1].command)!(...(lenses[1].arguments ?? []));
    assert.deepEqual(
      (await shown()).map((d) => d._id),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    // From the editor's title bar or the palette: the active editor's document.
    mock.activeTextEditor = { document: { uri: opened.uri } };
    await mock.commands.get('portcullis.loadMoreDocuments')!();
    assert.deepEqual((await shown()).map((d) => d._id).slice(38), [39, 40, 41, 42, 43, 44, 45]);
    lenses = codeLenses(opened.uri);
    assert.equal(lenses[1].title, 'End of shop.items: all 45 documents shown');
    assert.equal(lenses[1].command, '');
    await mock.commands.get('portcullis.loadMoreDocuments')!(opened.uri);
    assert.equal((await shown()).length, 45, 'nothing more to read');

    mock.activeTextEditor = undefined;
    await mock.commands.get('portcullis.loadMoreDocuments')!();
    assert.match(mock.messages.at(-1)?.text ?? '', /^Portcullis: open a collection from the Portcullis Resources view first$/);

    // Closing the document drops its pages; opening the collection again starts from the first page.
    closeDocument(opened.uri);
    assert.deepEqual(codeLenses(opened.uri), []);
    await mock.commands.get('portcullis.openCollection')!(items);
    assert.equal(JSON.parse(mock.documents.at(-1)!.text).length, 20);
  });

  it('everything the browse ran is in the session log: listDatabases, listCollections, count, listIndexes, find with skip', async () => {
    // Uploads trail the commands: wait for the last of them.
    let commands: CommandEvent[] = [];
    await waitFor(async () => {
      commands = await loggedCommands(bed, sessionId, 1);
      return commands.filter((c) => c.command === 'find').length >= 4;
    }, 'the four finds in the session log');
    const ran = commands.map((c) => `${c.command} ${c.database}${c.collection ? `.${c.collection}` : ''}`);
    for (const expected of [
      'listDatabases admin',
      'listCollections shop',
      'count shop.items',
      'listIndexes shop.items',
      'find shop.items',
    ]) {
      assert.ok(ran.includes(expected), `${expected} in ${ran.join(', ')}`);
    }
    const finds = commands.filter((c) => c.command === 'find' && c.collection === 'items').map((c) => c.input);
    assert.equal(finds.length, 4, 'first page, two more pages, the first page again (the end needs no read)');
    assert.match(finds[1], /"skip":20/);
    assert.match(finds[2], /"skip":40/);
  });

  it('a refusal by the account’s policy shows as an error line with the gateway’s text, and the rest of the tree still works', async () => {
    await access('limited');
    const active = await account('limited');
    assert.deepEqual(
      (await children(active)).map((d) => d.label),
      ['shop'],
      'listDatabases shows only the allowed databases',
    );
    const items = await child(await child(active, 'shop'), 'items');
    assert.equal(items.description, '45 documents');
    const [error] = await children(items);
    assert.equal(error.contextValue, 'browse.error');
    assert.match(
      String(error.label),
      /^Could not list the indexes: the account "limited" may not run listIndexes \(Portcullis policy: denied commands\)$/,
    );
    assert.equal(error.command?.command, 'portcullis.refresh', 'clicking it tries again');
    assert.equal(error.id, `${items.id}:error`);
    assert.doesNotMatch(String(error.label), /\n/);
  });

  it('Copy Connection String offers the plain URI, Compass and MongoDB for VS Code, copies the chosen one and says so', async () => {
    const session = controller.book.get(sessionId)!;
    let offered: Array<{ label: string; description?: string }> = [];
    mock.quickPickAnswers.push((items) => {
      offered = items as typeof offered;
      return items.find((i) => i.label === 'MongoDB Compass');
    });
    await mock.commands.get('portcullis.copyConnectionUri')!(await account('setup-admin'));
    const port = new URL(session.uri).port;
    assert.deepEqual(
      offered.map((i) => [i.label, i.description]),
      [
        ['Connection string', `mongodb://127.0.0.1:${port}/`],
        ['MongoDB Compass', `mongodb://127.0.0.1:${port}/?directConnection=true`],
        ['MongoDB for VS Code', `mongodb://127.0.0.1:${port}/?directConnection=true`],
      ],
    );
    assert.equal(mock.clipboard, `mongodb://127.0.0.1:${port}/?directConnection=true`);
    const confirmation = mock.messages.at(-1)!;
    assert.equal(confirmation.severity, 'information');
    assert.match(
      confirmation.text,
      /^Copied mongodb:\/\/127\.0\.0\.1:\d+\/\?directConnection=true \(MongoDB Compass\)\. In Compass: New Connection/,
    );
    assert.match(confirmation.text, /needs no password while the session on ferret \/ setup-admin runs/);

    mock.quickPickAnswers.push((items) => items.find((i) => i.label === 'MongoDB for VS Code'));
    await mock.commands.get('portcullis.copyConnectionUri')!(await account('setup-admin'));
    assert.match(mock.messages.at(-1)!.text, /Run "MongoDB: Connect with Connection String" and paste it/);

    mock.clipboard = '';
    mock.quickPickAnswers.push(() => undefined);
    await mock.commands.get('portcullis.copyConnectionUri')!(await account('setup-admin'));
    assert.equal(mock.clipboard, '', 'Escape copies nothing');
  });

  it('when the session ends its client closes, the account is a leaf again, and old nodes and documents say the session ended', async () => {
    const shop = await child(await account('setup-admin'), 'shop');
    const documentUri = mock.documents.at(-1)!.uri;
    assert.ok(source.openSessions().includes(sessionId));
    await mock.commands.get('portcullis.stopSession')!(await account('setup-admin'));
    await settle();
    await waitFor(() => !source.openSessions().includes(sessionId), 'the ended session’s client to close', 5000);
    const after = await account('setup-admin');
    assert.equal(after.collapsibleState, 0);
    assert.deepEqual(await children(after), []);
    const [stale] = await children(shop);
    assert.equal(stale.contextValue, 'browse.error');
    assert.match(String(stale.label), /the session on ferret \/ setup-admin is no longer running in this window; click Access/);
    await mock.commands.get('portcullis.loadMoreDocuments')!(documentUri);
    assert.match(mock.messages.at(-1)!.text, /^Portcullis: the session on ferret \/ setup-admin is no longer running in this window/);
  });
});
