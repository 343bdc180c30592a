/**
 * What a client can learn about the deployment behind a resource, through the real tunnel to FerretDB started as
 * a replica-set member with info logging: no internal host name, address or port in any diagnostic reply or
 * error; each is replaced by `portcullis:<resource name>`. Gateway errors name the resource; the full detail is
 * in the session log for admins only.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { type Document, EJSON } from 'bson';
import { MongoClient } from 'mongodb';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { freePort } from '../bed/ports';
import { startTunnelBed, type TunnelBed } from '../e2e/tunnel-harness';

const REPLICA_SET = 'rs-hidden';
const PLACEHOLDER = 'portcullis:ferret';

let bed: TunnelBed;
let handle: AccessHandle;
let client: MongoClient;

function assertHidden(reply: Document, what: string): void {
  const text = EJSON.stringify(reply);
  for (const secret of [`127.0.0.1`, `:${bed.db.port}`, `"${hostname()}"`, REPLICA_SET]) {
    assert.ok(!text.includes(secret), `${what} reveals ${secret}: ${text.slice(0, 600)}`);
  }
}

describe('security: no internal address reaches a client', () => {
  before(async () => {
    bed = await startTunnelBed({ db: { replSetName: REPLICA_SET, logLevel: 'info' } });
    handle = await startAccess({
      server: bed.server,
      token: bed.token,
      accountId: bed.account.id,
      clientAgent: 'hiding-test',
      pollIntervalMs: 500,
    });
    client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000 });
    await client
      .db('shop')
      .collection('items')
      .insertMany([{ a: 1 }, { a: 2 }]);
  });
  after(async () => {
    await client?.close().catch(() => {});
    await handle?.stop().catch(() => {});
    await bed?.stop();
  });

  it('direct to FerretDB these replies do name the host (so the test can tell)', async () => {
    const direct = new MongoClient(bed.db.adminUri);
    try {
      const status = await direct.db('admin').command({ serverStatus: 1 });
      assert.equal(status.host, hostname());
      const uri = await direct.db('admin').command({ whatsmyuri: 1 });
      assert.match(uri.you, /^127\.0\.0\.1:\d+$/);
    } finally {
      await direct.close();
    }
  });

  it('serverStatus, hostInfo, whatsmyuri, getCmdLineOpts, currentOp and buildInfo', async () => {
    const admin = client.db('admin');
    const status = await admin.command({ serverStatus: 1 });
    assert.equal(status.host, PLACEHOLDER);
    assertHidden(status, 'serverStatus');
    const info = await admin.command({ hostInfo: 1 });
    assert.equal(info.system.hostname, PLACEHOLDER);
    assertHidden(info, 'hostInfo');
    const uri = await admin.command({ whatsmyuri: 1 });
    assert.equal(uri.you, PLACEHOLDER);
    for (const command of [{ getCmdLineOpts: 1 }, { currentOp: 1 }, { buildInfo: 1 }])
      assertHidden(await admin.command(command), Object.keys(command)[0]);
  });

  it('getLog: the log lines name no client or server address', async () => {
    const admin = client.db('admin');
    const startup = await admin.command({ getLog: 'startupWarnings' });
    assertHidden(startup, 'getLog startupWarnings');
    const global = await admin.command({ getLog: 'global' });
    assert.ok(global.log.length > 0, 'FerretDB at info level has log lines');
    assertHidden(global, 'getLog global');
  });

  it('explain and $collStats name no host', async () => {
    const items = client.db('shop').collection('items');
    assertHidden(await items.find({ a: 1 }).explain(), 'explain find');
    assertHidden(await items.aggregate([{ $match: { a: 1 } }]).explain(), 'explain aggregate');
    const stats = await items.aggregate([{ $collStats: { storageStats: {} } }]).toArray();
    assert.ok(stats.length > 0);
    assert.equal(stats[0].host, PLACEHOLDER);
    for (const doc of stats) assertHidden(doc, '$collStats');
  });

  it('an unreachable database: the client is told the resource, the admin sees the address in the session log', async () => {
    const [project] = await bed.api.listProjects();
    const gateways = await bed.api.listGateways(project.id);
    const deadPort = await freePort();
    const resource = await bed.api.createResource(project.id, {
      name: 'orders-db',
      gatewayId: gateways[0].id,
      connectionString: `mongodb://127.0.0.1:${deadPort}/`,
      authDatabase: 'admin',
      tlsEnabled: false,
    });
    const account = await bed.api.createAccount(resource.id, { name: 'a', username: 'u', password: 'p', maxSessionDurationSeconds: 600 });
    const dead = await startAccess({
      server: bed.server,
      token: bed.token,
      accountId: account.id,
      clientAgent: 'hiding-test',
      pollIntervalMs: 500,
    });
    const deadClient = new MongoClient(dead.uri, { serverSelectionTimeoutMS: 5000 });
    try {
      const error = await deadClient
        .db('admin')
        .command({ ping: 1 })
        .then(
          () => assert.fail('the ping succeeded'),
          (e: Error) => e,
        );
      assert.match(error.message, /portcullis:orders-db/);
      assert.ok(!error.message.includes(String(deadPort)), error.message);
      let failed: Document | undefined;
      const deadline = Date.now() + 20_000;
      while (!failed && Date.now() < deadline) {
        failed = (await bed.logs(dead.session.id)).find((e) => e.kind === 'connection' && e.phase === 'failed');
        if (!failed) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(failed, 'the failure is in the session log');
      assert.ok(!String(failed.message).includes(String(deadPort)), failed.message);
      assert.match(String(failed.detail), new RegExp(`127\\.0\\.0\\.1:${deadPort}`), 'the admin sees the address');
    } finally {
      await deadClient.close().catch(() => {});
      await dead.stop().catch(() => {});
    }
  });
});
