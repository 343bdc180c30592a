import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { type DnsServer, startDnsServer } from '../../test/bed/dns';
import { type FerretDBServer, startFerretDB } from '../../test/bed/ferretdb';
import { runMongosh } from '../../test/bed/mongosh';
import { freePort } from '../../test/bed/ports';
import { encodeOpQuery } from '../wire/op-query';
import { RawWireClient, replyBody, startGateway, type TestGateway, targetFor } from './harness';

const SET = 'rs-gw';
const HIDDEN_FIELDS = ['hosts', 'passives', 'arbiters', 'me', 'primary', 'setName', 'setVersion', 'electionId', 'tags', 'topologyVersion'];

describe('gateway topology: a replica-set member shown as one server, server selection, mongodb+srv', () => {
  let server: FerretDBServer;
  let dns: DnsServer;
  const gateways: TestGateway[] = [];
  const gatewayFor = async (overrides: Parameters<typeof targetFor>[1], options: Parameters<typeof startGateway>[1] = {}) => {
    const g = await startGateway(targetFor(server, overrides), options);
    gateways.push(g);
    return g;
  };

  before(async () => {
    server = await startFerretDB({ replSetName: SET });
    dns = await startDnsServer({
      srv: { '_mongodb._tcp.cluster0.db.test': [{ target: 'node1.db.test', port: server.port }] },
      txt: { 'cluster0.db.test': [[`replicaSet=${SET}&authSource=admin`]] },
      a: { 'node1.db.test': ['127.0.0.1'] },
    });
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await dns?.stop();
    await server?.stop();
  });

  it('the driver connects WITHOUT directConnection and never sees the internal hosts or set name', async () => {
    const direct = new MongoClient(`${server.adminUri}&directConnection=true`);
    const real = await direct.db('admin').command({ hello: 1 });
    await direct.close();
    assert.equal(real.setName, SET, 'the server itself reports a replica set');
    assert.ok(Array.isArray(real.hosts) && real.hosts.length > 0);

    const gateway = await gatewayFor({});
    const client = new MongoClient(gateway.uri, { serverSelectionTimeoutMS: 10_000 });
    try {
      await client.db('topo').collection('c').insertOne({ x: 1 });
      assert.equal(await client.db('topo').collection('c').countDocuments(), 1);
      const hello = await client.db('admin').command({ hello: 1 });
      for (const field of HIDDEN_FIELDS) assert.equal(hello[field], undefined, `hello has no ${field}`);
      assert.equal(hello.msg, 'isdbgrid');
      assert.equal(hello.logicalSessionTimeoutMinutes, real.logicalSessionTimeoutMinutes, 'sessions stay available');
      assert.ok(!JSON.stringify(hello).includes(String(server.port)), 'the internal port appears nowhere');
      const legacy = await client.db('admin').command({ isMaster: 1 });
      assert.equal(legacy.setName, undefined);
      assert.equal(legacy.hosts, undefined);
      // A session-bound operation works, as drivers keep sessions for a mongos.
      const session = client.startSession();
      try {
        assert.equal(await client.db('topo').collection('c').countDocuments({}, { session }), 1);
      } finally {
        await session.endSession();
      }
    } finally {
      await client.close();
    }

    const shell = await runMongosh(gateway.uri, 'print(JSON.stringify(db.hello()))');
    assert.equal(shell.code, 0, shell.stderr);
    const shellHello = JSON.parse(shell.stdout.trim());
    assert.equal(shellHello.setName, undefined);
    assert.equal(shellHello.hosts, undefined);
    assert.equal(shellHello.me, undefined);
  });

  it('rewrites a legacy OP_QUERY isMaster (the first handshake drivers send) into an OP_REPLY with no internal names', async () => {
    const gateway = await gatewayFor({});
    const raw = await RawWireClient.open(gateway.port);
    try {
      raw.send(
        encodeOpQuery({
          requestId: 9,
          fullCollectionName: 'admin.$cmd',
          numberToReturn: -1,
          // Unwrapped, as drivers send it: FerretDB refuses the old {$query: ..., $readPreference} wrapper.
          query: { isMaster: 1, helloOk: true, client: { driver: { name: 'raw-test', version: '1' } }, compression: ['zlib'] },
        }),
      );
      const reply = await raw.next();
      assert.equal(reply.kind, 'reply');
      assert.equal(reply.kind === 'reply' && reply.reply.header.responseTo, 9);
      const body = replyBody(reply);
      assert.equal(body.ok, 1, JSON.stringify(body));
      assert.equal(body.ismaster, true);
      assert.equal(body.msg, 'isdbgrid');
      for (const field of HIDDEN_FIELDS) assert.equal(body[field], undefined, field);
      assert.equal(body.compression, undefined);
    } finally {
      raw.close();
    }
    assert.ok(gateway.connections('opened').some((e) => e.message === 'driver raw-test 1'));
  });

  it('selects by readPreference and fails clearly when nothing matches', async () => {
    const base = `mongodb://127.0.0.1:${server.port}/`;
    const preferred = await gatewayFor({ connectionString: `${base}?readPreference=secondaryPreferred` });
    const ok = new MongoClient(preferred.uri, { serverSelectionTimeoutMS: 10_000 });
    try {
      assert.equal((await ok.db('admin').command({ ping: 1 })).ok, 1);
    } finally {
      await ok.close();
    }

    const secondaryOnly = await gatewayFor({ connectionString: `${base}?readPreference=secondary` });
    const bad = new MongoClient(secondaryOnly.uri, { serverSelectionTimeoutMS: 2_000 });
    try {
      await assert.rejects(bad.db('admin').command({ ping: 1 }), /no server in replica set|no server matches readPreference=secondary/);
    } finally {
      await bad.close();
    }
    const failed = secondaryOnly.connections('failed');
    assert.ok(failed.length >= 1);
    // The log's message is what the client was told (no address); the admin-only detail has the address.
    assert.match(failed[0].message ?? '', /readPreference=secondary; found: portcullis:database \(primary of/);
    assert.match(
      failed[0].detail ?? '',
      new RegExp(`readPreference=secondary; found: 127\\.0\\.0\\.1:${server.port} \\(primary of ${SET}\\)`),
    );

    const otherSet = await gatewayFor({ connectionString: `${base}?replicaSet=another-set` });
    const wrongSet = new MongoClient(otherSet.uri, { serverSelectionTimeoutMS: 2_000 });
    try {
      await assert.rejects(wrongSet.db('admin').command({ ping: 1 }), /no server in replica set portcullis:database matches/);
    } finally {
      await wrongSet.close();
    }
  });

  it('skips an unreachable seed host and uses the reachable primary', async () => {
    const deadPort = await freePort();
    const gateway = await gatewayFor({ connectionString: `mongodb://127.0.0.1:${deadPort},127.0.0.1:${server.port}/?replicaSet=${SET}` });
    const client = new MongoClient(gateway.uri, { serverSelectionTimeoutMS: 10_000 });
    try {
      assert.equal((await client.db('admin').command({ ping: 1 })).ok, 1);
    } finally {
      await client.close();
    }
  });

  it('does not wait for a seed host that accepts but never answers, once the primary has answered', async () => {
    const held = new Set<Socket>();
    const silent = createServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    // The gateway would wait 10 minutes for the silent host; the driver gives up after 30 s.
    const gateway = await gatewayFor(
      { connectionString: `mongodb://127.0.0.1:${silentPort},127.0.0.1:${server.port}/?replicaSet=${SET}` },
      { connectTimeoutMs: 600_000 },
    );
    const client = new MongoClient(gateway.uri, { serverSelectionTimeoutMS: 30_000 });
    try {
      assert.equal((await client.db('admin').command({ ping: 1 })).ok, 1);
    } finally {
      await client.close();
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('resolves mongodb+srv on the gateway through a DNS server on loopback (SRV for hosts, TXT for options)', async () => {
    const gateway = await gatewayFor({ connectionString: 'mongodb+srv://cluster0.db.test/?tls=false' }, { resolver: dns.resolver });
    const client = new MongoClient(gateway.uri, { serverSelectionTimeoutMS: 10_000 });
    try {
      await client.db('srv').collection('c').insertOne({ via: 'srv' });
      assert.equal((await client.db('srv').collection('c').findOne({}))?.via, 'srv');
      const hello = await client.db('admin').command({ hello: 1 });
      assert.equal(hello.setName, undefined);
    } finally {
      await client.close();
    }
    assert.ok(dns.queries.includes('SRV _mongodb._tcp.cluster0.db.test'));
    assert.ok(dns.queries.includes('TXT cluster0.db.test'));
    assert.ok(dns.queries.includes('A node1.db.test'));
  });

  it('an unreachable server reaches the client as a readable error and a failed event', async () => {
    const deadPort = await freePort();
    const gateway = await gatewayFor({ connectionString: `mongodb://127.0.0.1:${deadPort}/` });
    const client = new MongoClient(gateway.uri, { serverSelectionTimeoutMS: 2_000 });
    try {
      await assert.rejects(
        client.db('admin').command({ ping: 1 }),
        /Portcullis gateway could not reach the database: .*refused the connection/,
      );
    } finally {
      await client.close();
    }
    assert.match(gateway.connections('failed')[0]?.message ?? '', /could not reach the database/);
  });
});
