/**
 * The browse data source through the real tunnel (FerretDB with SCRAM, the control plane, a gateway agent and
 * proxy-core's startAccess): what it reads, that every command it runs is in the session log, that a policy
 * refusal reaches the user as the gateway's own text, and when its client closes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient, MongoServerError } from 'mongodb';
import type { CommandEvent, ConnectionEvent } from '../../protocol/session-log';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { loggedCommands, startTunnelBed, type TunnelBed, waitFor } from '../../test/e2e/tunnel-harness';
import { BROWSE_APP_NAME, BrowseDataSource } from './browse-data-source';
import { describeBrowseError } from './browse-errors';

let bed: TunnelBed;
const handles: AccessHandle[] = [];
const sources: BrowseDataSource[] = [];

async function session(accountId = bed.account.id): Promise<AccessHandle> {
  const handle = await startAccess({ server: bed.server, token: bed.token, accountId });
  handles.push(handle);
  return handle;
}

function dataSource(options: ConstructorParameters<typeof BrowseDataSource>[0] = {}): BrowseDataSource {
  const source = new BrowseDataSource(options);
  sources.push(source);
  return source;
}

const ref = (handle: AccessHandle) => ({ id: handle.session.id, uri: handle.uri });

describe('browsing through a session', () => {
  before(async () => {
    bed = await startTunnelBed();
    // The data, written straight to FerretDB: what is read below must come through the session.
    const direct = new MongoClient(bed.db.adminUri);
    try {
      const items = direct.db('shop').collection<{ _id: number; sku: string; at: Date }>('items');
      await items.insertMany(
        Array.from({ length: 45 }, (_, i) => ({ _id: i + 1, sku: `sku-${i + 1}`, at: new Date(Date.UTC(2026, 0, 1, 0, i)) })),
      );
      await items.createIndex({ sku: 1 }, { unique: true, name: 'sku_unique' });
      await direct.db('shop').createCollection('empty');
      await direct.db('other').collection<{ _id: number }>('secrets').insertOne({ _id: 1 });
    } finally {
      await direct.close();
    }
  });

  after(async () => {
    for (const source of sources) await source.closeAll();
    for (const handle of handles) await handle.stop().catch(() => undefined);
    await bed?.stop();
  });

  it('lists databases, collections with counts, indexes and pages of documents in _id order; every command is in the session log', async () => {
    const handle = await session();
    const source = dataSource();
    const databases = await source.listDatabases(ref(handle));
    assert.ok(
      ['other', 'shop'].every((name) => databases.some((d) => d.name === name)),
      JSON.stringify(databases),
    );
    assert.deepEqual(
      databases.map((d) => d.name),
      databases.map((d) => d.name).sort((a, b) => a.localeCompare(b)),
    );
    const collections = await source.listCollections(ref(handle), 'shop');
    assert.deepEqual(
      collections.map((c) => [c.name, c.type, c.count]),
      [
        ['empty', 'collection', 0],
        ['items', 'collection', 45],
      ],
    );
    const indexes = await source.listIndexes(ref(handle), 'shop', 'items');
    assert.deepEqual(indexes.map((i) => [i.name, i.key, i.unique]).sort(), [
      ['_id_', { _id: 1 }, undefined],
      ['sku_unique', { sku: 1 }, true],
    ]);
    const first = await source.findPage(ref(handle), 'shop', 'items', 0, 20);
    assert.equal(first.more, true);
    assert.deepEqual(
      first.documents.map((d) => d._id),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.ok(first.documents[0].at instanceof Date);
    const last = await source.findPage(ref(handle), 'shop', 'items', 40, 20);
    assert.equal(last.more, false);
    assert.deepEqual(
      last.documents.map((d) => d._id),
      [41, 42, 43, 44, 45],
    );

    // No side channel: the gateway recorded each of these, under the browse's own app name.
    // Uploads trail the commands: wait for the last of them.
    let commands: CommandEvent[] = [];
    await waitFor(async () => {
      commands = await loggedCommands(bed, handle.session.id, 1);
      return commands.filter((c) => c.command === 'find').length >= 2;
    }, 'the two finds in the session log');
    const ran = commands.map((c) => `${c.command} ${c.database}${c.collection ? `.${c.collection}` : ''}`);
    for (const expected of [
      'listDatabases admin',
      'listCollections shop',
      'count shop.items',
      'count shop.empty',
      'listIndexes shop.items',
    ]) {
      assert.ok(ran.includes(expected), `${expected} in ${ran.join(', ')}`);
    }
    const finds = commands.filter((c) => c.command === 'find' && c.collection === 'items');
    assert.equal(finds.length, 2, ran.join(', '));
    assert.match(finds[1].input, /"skip":40/);
    assert.ok(commands.every((c) => c.outcome === 'ok'));
    const opened = (await bed.logs(handle.session.id)).filter(
      (e): e is ConnectionEvent & { sessionId: string; seq: number } => e.kind === 'connection' && e.phase === 'opened',
    );
    assert.ok(
      opened.some((e) => e.message?.includes(`app ${BROWSE_APP_NAME}`)),
      JSON.stringify(opened.map((e) => e.message)),
    );
  });

  it('a policy refusal is the gateway’s MongoDB error 13, shown with its own text; listDatabases shows only the allowed databases', async () => {
    const account = await bed.api.createAccount(bed.account.resourceId, {
      name: 'shop-only',
      username: bed.db.username,
      password: bed.db.password,
      policy: { databases: ['shop'], denied: ['listIndexes'] },
    });
    const handle = await session(account.id);
    const source = dataSource();
    const databases = await source.listDatabases(ref(handle));
    assert.deepEqual(
      databases.map((d) => d.name),
      ['shop'],
    );
    const refusal = await source.listCollections(ref(handle), 'other').then(
      () => assert.fail('listCollections on a database outside the policy was not refused'),
      (error: unknown) => error,
    );
    assert.ok(refusal instanceof MongoServerError);
    assert.equal(refusal.code, 13);
    const shown = describeBrowseError(refusal);
    assert.match(shown, /account "shop-only" may use only the databases shop/);
    assert.equal(shown, refusal.message, 'the server’s text as it is');
    assert.doesNotMatch(shown, /\n\s+at /, 'no stack');
    const denied = await source.listIndexes(ref(handle), 'shop', 'items').catch((error: unknown) => error);
    assert.match(describeBrowseError(denied), /account "shop-only" may not run listIndexes/);
  });

  it('closes its client when idle and opens another on next use; after the session ends, says the address did not answer', async () => {
    const handle = await session();
    const source = dataSource({ idleCloseMs: 200, serverSelectionTimeoutMs: 1500 });
    await source.listDatabases(ref(handle));
    assert.deepEqual(source.openSessions(), [handle.session.id]);
    await waitFor(() => source.openSessions().length === 0, 'the idle client to close', 5000);
    assert.equal((await source.listCollections(ref(handle), 'shop')).length, 2, 'reopened on use');
    await source.close(handle.session.id);
    assert.deepEqual(source.openSessions(), []);

    await handle.stop();
    const error = await source.listDatabases(ref(handle)).catch((e: unknown) => e);
    assert.match(describeBrowseError(error), /^the session's local address did not answer \(.+\); if the session ended, click Access/);
    await source.closeAllExcept(new Set());
    assert.deepEqual(source.openSessions(), []);
  });
});
