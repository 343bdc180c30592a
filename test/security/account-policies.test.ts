/**
 * Account policies through the real tunnel (issue 14): the gateway enforces read-only, a database allow-list and
 * denied commands and operators on the bytes of every command, for the official driver, mongosh, and messages built
 * byte by byte to look like something else; refusals are MongoDB errors (13 Unauthorized) naming the account and the
 * rule, logged with outcome `refused`; nothing refused reaches FerretDB; a policy changed while a connection runs
 * applies to its next command within a second; an account that requires a reason refuses access without one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient, MongoServerError } from 'mongodb';
import { RawWireClient, replyBody } from '../../gateway/test/harness';
import { element, rawOpMsg, rawOpQuery } from '../../gateway/test/raw-messages';
import type { AccountDto } from '../../protocol/api';
import { type AccountPolicy, POLICY_PRESETS } from '../../protocol/policy';
import type { CommandEvent } from '../../protocol/session-log';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { ApiError } from '../../proxy-core/api-client';
import { runMongosh } from '../bed/mongosh';
import { loggedCommands, startTunnelBed, type TunnelBed } from '../e2e/tunnel-harness';

let bed: TunnelBed;
const handles: AccessHandle[] = [];
const clients: MongoClient[] = [];
let requestId = 1;

async function accountWith(name: string, policy: Partial<AccountPolicy>): Promise<AccountDto> {
  return bed.api.createAccount(bed.account.resourceId, {
    name,
    username: bed.db.username,
    password: bed.db.password,
    policy,
  });
}

async function open(account: AccountDto, reason?: string): Promise<{ handle: AccessHandle; client: MongoClient }> {
  const handle = await startAccess({ server: bed.server, token: bed.token, accountId: account.id, reason });
  handles.push(handle);
  const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000, retryWrites: false, retryReads: false });
  clients.push(client);
  return { handle, client };
}

/** The server error a refused operation gets: code 13, naming the account and the rule. */
async function refused(operation: Promise<unknown>, account: string, rule: RegExp): Promise<MongoServerError> {
  try {
    await operation;
  } catch (error) {
    assert.ok(error instanceof MongoServerError, `a server error, got ${error}`);
    assert.equal(error.code, 13, error.message);
    assert.equal(error.codeName, 'Unauthorized');
    assert.match(error.message, new RegExp(`account "${account}"`));
    assert.match(error.message, rule);
    return error;
  }
  assert.fail('the operation was not refused');
}

const commandsOf = (handle: AccessHandle, count: number): Promise<CommandEvent[]> => loggedCommands(bed, handle.session.id, count);

describe('account policies through the tunnel', () => {
  let admin: MongoClient;

  before(async () => {
    bed = await startTunnelBed();
    // The data, written through the bed's own account (read-write, any database).
    const { client } = await open(bed.account);
    admin = client;
    await admin
      .db('app')
      .collection('orders')
      .insertMany([
        { _id: 1, status: 'new' },
        { _id: 2, status: 'done' },
      ] as never[]);
    await admin
      .db('logs_2026')
      .collection('events')
      .insertOne({ _id: 1, what: 'boot' } as never);
    await admin
      .db('other')
      .collection('secrets')
      .insertOne({ _id: 1, secret: 'not for scoped' } as never);
  });

  after(async () => {
    for (const client of clients) await client.close(true).catch(() => undefined);
    for (const handle of handles) await handle.stop().catch(() => undefined);
    await bed?.stop();
  });

  it('read-only: find and aggregate work; writes, index and collection changes and $out are refused and never reach the database', async () => {
    const account = await accountWith('reader', { mode: 'read-only' });
    const { handle, client } = await open(account);
    const orders = client.db('app').collection<{ _id: number; status?: string; note?: string }>('orders');
    assert.equal((await orders.find({}).toArray()).length, 2);
    assert.deepEqual(await orders.aggregate([{ $match: { status: 'new' } }, { $project: { _id: 1 } }]).toArray(), [{ _id: 1 }]);
    assert.equal(await orders.countDocuments({}), 2);
    const rule = /read-only/;
    await refused(orders.insertOne({ _id: 3, status: 'sneaky' } as never), 'reader', rule);
    await refused(orders.updateOne({ _id: 1 }, { $set: { status: 'changed' } }), 'reader', rule);
    await refused(orders.deleteMany({}), 'reader', rule);
    await refused(orders.createIndex({ status: 1 }), 'reader', rule);
    await refused(orders.drop(), 'reader', rule);
    await refused(orders.aggregate([{ $match: {} }, { $out: 'copy' }]).toArray(), 'reader', rule);
    await refused(client.db('app').command({ explain: { delete: 'orders', deletes: [{ q: {}, limit: 0 }] } }), 'reader', rule);

    // Messages built byte by byte: a key before `insert` (in decoded order `insert` would look second, in byte order it
    // is what MongoDB runs), and OP_QUERY on app.$cmd with the command wrapped in $query.
    const raw = await RawWireClient.open(handle.port);
    try {
      raw.send(
        rawOpMsg([element('insert', 'orders'), element('documents', [{ _id: 9 }]), element('0', 1), element('$db', 'app')], {
          requestId: requestId++,
        }),
      );
      const body = replyBody(await raw.next());
      assert.equal(body.ok, 0);
      assert.equal(body.code, 13);
      raw.send(rawOpQuery('app.$cmd', [element('$query', { insert: 'orders', documents: [{ _id: 10 }] })], { requestId: requestId++ }));
      const legacy = replyBody(await raw.next());
      assert.equal(legacy.code, 13, JSON.stringify(legacy));
    } finally {
      raw.socket.destroy();
    }

    const shell = await runMongosh(handle.uri, `db.getSiblingDB('app').orders.insertOne({_id: 11})`);
    assert.notEqual(shell.code, 0);
    assert.match(shell.stdout + shell.stderr, /account "reader" is read-only/);
    const readable = await runMongosh(handle.uri, `print(db.getSiblingDB('app').orders.countDocuments({}))`);
    assert.equal(readable.code, 0, readable.stderr);
    assert.equal(readable.stdout.trim(), '2');

    // Nothing refused reached FerretDB.
    assert.deepEqual(await admin.db('app').collection('orders').find({}).sort({ _id: 1 }).toArray(), [
      { _id: 1, status: 'new' },
      { _id: 2, status: 'done' },
    ]);
    assert.deepEqual(await admin.db('app').listCollections({ name: 'copy' }).toArray(), []);
    const commands = await commandsOf(handle, 10);
    const refusals = commands.filter((c) => c.outcome === 'refused');
    assert.ok(refusals.length >= 9, `refused commands logged: ${JSON.stringify(commands.map((c) => [c.command, c.outcome]))}`);
    for (const c of refusals) {
      assert.equal(c.policy, 'read-only');
      assert.match(c.errorMessage ?? '', /read-only/);
    }
    assert.ok(refusals.some((c) => c.command === 'insert' && c.database === 'app'));
  });

  it('databases: only app and logs_* are usable, listDatabases shows only them, $out into another database is refused', async () => {
    const account = await accountWith('scoped', { databases: ['app', 'logs_*'] });
    const { client, handle } = await open(account);
    assert.equal(await client.db('app').collection('orders').countDocuments({}), 2);
    assert.equal(await client.db('logs_2026').collection('events').countDocuments({}), 1);
    const rule = /may use only the databases app, logs_\*/;
    const error = await refused(client.db('other').collection('secrets').findOne({}), 'scoped', rule);
    assert.match(error.message, /"other"/);
    await refused(
      client
        .db('other')
        .collection('secrets')
        .insertOne({ _id: 2 } as never),
      'scoped',
      rule,
    );
    await refused(
      client
        .db('app')
        .collection('orders')
        .aggregate([{ $match: {} }, { $out: { db: 'other', coll: 'stolen' } }])
        .toArray(),
      'scoped',
      rule,
    );
    const names = (await client.db('admin').admin().listDatabases()).databases.map((d) => d.name).sort();
    assert.ok(names.includes('app') && names.includes('logs_2026'), names.join(','));
    assert.deepEqual(
      names.filter((n) => n !== 'app' && n !== 'logs_2026'),
      [],
      'no other database is listed',
    );
    const shown = await runMongosh(
      handle.uri,
      'print(db.adminCommand({listDatabases: 1, nameOnly: true}).databases.map(d => d.name).sort().join(","))',
    );
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout.trim(), 'app,logs_2026');
    assert.equal(await admin.db('other').collection('secrets').countDocuments({}), 1);
    assert.deepEqual(await admin.db('other').listCollections({ name: 'stolen' }).toArray(), []);
  });

  it('denied: the safe-defaults preset refuses dropDatabase, drop and $where anywhere; harmless neighbours go through', async () => {
    const account = await accountWith('guarded', { denied: [...POLICY_PRESETS['safe-defaults']] });
    const { client, handle } = await open(account);
    const orders = client.db('app').collection<{ _id: number; status?: string; note?: string }>('orders');
    await refused(client.db('app').dropDatabase(), 'guarded', /may not run dropDatabase/);
    await refused(orders.drop(), 'guarded', /may not run drop\b/);
    await refused(orders.find({ $where: 'true' }).toArray(), 'guarded', /may not use \$where/);
    await refused(orders.find({ $and: [{ status: 'new' }, { $or: [{ $where: 'true' }] }] }).toArray(), 'guarded', /\$where/);
    // A string that says "$where" is data, not the operator; deleting by a filter is not dropping.
    await orders.insertOne({ _id: 20, note: '$where' } as never);
    assert.equal((await orders.deleteMany({ status: 'x' })).deletedCount, 0);
    assert.equal(await orders.countDocuments({ note: '$where' }), 1);
    await orders.deleteOne({ _id: 20 });
    assert.equal(await admin.db('app').collection('orders').countDocuments({}), 2);
    const commands = await commandsOf(handle, 8);
    assert.deepEqual(
      commands.filter((c) => c.outcome === 'refused').map((c) => [c.command, c.policy]),
      [
        ['dropDatabase', 'denied'],
        ['drop', 'denied'],
        ['find', 'denied'],
        ['find', 'denied'],
      ],
    );
  });

  it('a policy changed while a connection runs applies to its next command within a second', async (t) => {
    const account = await accountWith('changing', {});
    const { client } = await open(account);
    const scratch = client.db('app').collection('scratch');
    await scratch.insertOne({ _id: 1 } as never);
    const changed = Date.now();
    await bed.api.updateAccount(account.id, { policy: { mode: 'read-only' } });
    let n = 2;
    let refusedAfter = -1;
    while (Date.now() - changed < 5000) {
      try {
        await scratch.insertOne({ _id: n++ } as never);
      } catch (error) {
        assert.equal((error as MongoServerError).code, 13);
        refusedAfter = Date.now() - changed;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    t.diagnostic(`the same connection was refused ${refusedAfter} ms after the change was saved`);
    assert.ok(refusedAfter >= 0 && refusedAfter <= 1000, `refused within a second, took ${refusedAfter} ms`);
    assert.equal((await client.db('app').collection('scratch').find({}).toArray()).length >= 1, true);
  });

  it('an account that requires a reason refuses access without one, and keeps the reason with the session', async () => {
    const account = await accountWith('explained', { reasonRequired: true });
    await assert.rejects(
      startAccess({ server: bed.server, token: bed.token, accountId: account.id }),
      (error: unknown) => error instanceof ApiError && error.code === 'reason_required' && /requires a reason/.test(error.message),
    );
    await assert.rejects(
      startAccess({ server: bed.server, token: bed.token, accountId: account.id, reason: '   ' }),
      (error: unknown) => error instanceof ApiError && error.code === 'reason_required',
    );
    const { handle } = await open(account, 'INC-42: stuck orders');
    assert.equal((await bed.api.getSession(handle.session.id)).reason, 'INC-42: stuck orders');
  });
});
