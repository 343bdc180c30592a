import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MongoClient, MongoServerError } from 'mongodb';
import type { SessionLogEvent } from '../../protocol/session-log';
import { type FerretDBServer, startFerretDB } from '../../test/bed/ferretdb';
import { runMongosh } from '../../test/bed/mongosh';
import { type ServedClient, serveClient } from '../engine/serve-client';
import { OP_CODES, OP_REPLY_FLAGS } from '../wire/constants';
import { encodeOpMsg } from '../wire/op-msg';
import { RawWireClient, replyBody, startGateway, type TestGateway, targetFor, waitFor } from './harness';

/** Test documents with their own _id of any type. */
type AnyDoc = { _id: number | string; [field: string]: unknown };

/**
 * The gateway in front of a real FerretDB with SCRAM on, used by the official driver and mongosh with no
 * credentials in their URIs: everything here works only because the gateway authenticates upstream.
 */
describe('gateway relay: real clients through the gateway to FerretDB', () => {
  let server: FerretDBServer;
  let gateway: TestGateway;
  let client: MongoClient;

  before(async () => {
    server = await startFerretDB();
    gateway = await startGateway(targetFor(server));
    client = new MongoClient(gateway.uri, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
  });
  after(async () => {
    await client?.close();
    await gateway?.close();
    await server?.stop();
  });

  it('the server itself refuses a client without credentials (so the gateway must be injecting them)', async () => {
    const direct = new MongoClient(server.uri, { serverSelectionTimeoutMS: 5_000, directConnection: true });
    try {
      await assert.rejects(direct.db('relay').collection<AnyDoc>('x').findOne({}), /authentication/i);
    } finally {
      await direct.close();
    }
  });

  it('insert, find, update, delete and an aggregation, each recorded as a command event', async () => {
    const items = client.db('relay').collection<AnyDoc>('crud');
    await items.insertMany([
      { _id: 1, kind: 'a', n: 1 },
      { _id: 2, kind: 'b', n: 2 },
      { _id: 3, kind: 'a', n: 3 },
    ]);
    assert.deepEqual(await items.find({ kind: 'a' }).sort({ _id: 1 }).toArray(), [
      { _id: 1, kind: 'a', n: 1 },
      { _id: 3, kind: 'a', n: 3 },
    ]);
    const updated = await items.updateOne({ _id: 2 }, { $set: { n: 20 } });
    assert.equal(updated.modifiedCount, 1);
    const deleted = await items.deleteOne({ _id: 3 });
    assert.equal(deleted.deletedCount, 1);
    const totals = await items.aggregate([{ $group: { _id: '$kind', total: { $sum: '$n' } } }, { $sort: { _id: 1 } }]).toArray();
    assert.deepEqual(totals, [
      { _id: 'a', total: 1 },
      { _id: 'b', total: 20 },
    ]);

    const events = gateway.commands((e) => e.database === 'relay' && e.collection === 'crud');
    assert.deepEqual(
      events.map((e) => e.command),
      ['insert', 'find', 'update', 'delete', 'aggregate'],
    );
    assert.equal(events[0].affected, 3);
    assert.equal(events[1].documents, 2);
    assert.match(events[1].input, /"kind":"a"/);
    assert.equal(events[2].affected, 1);
    assert.equal(events[4].documents, 2);
    assert.ok(events.every((e) => e.outcome === 'ok'));
  });

  it('a cursor that needs getMore (over 101 documents), and one closed early with killCursors', async () => {
    const docs = Array.from({ length: 250 }, (_, i) => ({ _id: i, pad: 'x'.repeat(20) }));
    const coll = client.db('relay').collection<AnyDoc>('cursor');
    await coll.insertMany(docs);
    const all = await coll.find({}).sort({ _id: 1 }).toArray();
    assert.equal(all.length, 250);
    assert.equal(all[249]._id, 249);
    const getMores = gateway.commands((e) => e.command === 'getMore' && e.collection === 'cursor');
    assert.ok(getMores.length >= 1, 'a getMore was recorded');
    assert.equal(
      getMores.reduce((n, e) => n + (e.documents ?? 0), 0),
      250 - 101,
    );

    const early = coll.find({}, { batchSize: 10 });
    assert.ok(await early.next());
    await early.close();
    const killed = gateway.commands((e) => e.command === 'killCursors');
    assert.equal(killed.length, 1);
    assert.equal(killed[0].outcome, 'ok');
    // The connection is still good after the kill.
    assert.equal(await coll.countDocuments(), 250);
  });

  it('round-trips a 10 MB document', async () => {
    const big = 'z'.repeat(10 * 1024 * 1024);
    const coll = client.db('relay').collection<AnyDoc>('big');
    await coll.insertOne({ _id: 'big', big });
    const back = await coll.findOne({ _id: 'big' });
    assert.equal(String(back?.big).length, big.length);
    assert.equal(back?.big, big);
    const insert = gateway.commands((e) => e.command === 'insert' && e.collection === 'big')[0];
    assert.ok(Buffer.byteLength(JSON.stringify(insert)) <= 8192, 'the recorded event stays under the size cap');
    assert.equal(insert.truncated, true);
  });

  it('inserts 20,000 documents in bulk with insertMany', async () => {
    const coll = client.db('relay').collection<AnyDoc>('bulk');
    const docs = Array.from({ length: 20_000 }, (_, i) => ({ _id: i, v: i % 7 }));
    const result = await coll.insertMany(docs);
    assert.equal(result.insertedCount, 20_000);
    assert.equal(await coll.countDocuments(), 20_000);
    const inserts = gateway.commands((e) => e.command === 'insert' && e.collection === 'bulk');
    assert.equal(
      inserts.reduce((n, e) => n + (e.affected ?? 0), 0),
      20_000,
    );
  });

  it('propagates a duplicate-key error intact (code 11000)', async () => {
    const coll = client.db('relay').collection<AnyDoc>('dup');
    await coll.insertOne({ _id: 'one' });
    const error = await coll.insertOne({ _id: 'one' }).then(
      () => assert.fail('the second insert should fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof MongoServerError);
    assert.equal(error.code, 11000);
    const event = gateway.commands((e) => e.collection === 'dup' && e.outcome === 'error')[0];
    assert.equal(event.errorCode, 11000);
  });

  it('serves 50 connections at once, each its own upstream connection', async () => {
    const clients = Array.from({ length: 50 }, () => new MongoClient(gateway.uri, { maxPoolSize: 1, serverSelectionTimeoutMS: 20_000 }));
    try {
      const results = await Promise.all(
        clients.map(async (c, i) => {
          await c.db('relay').collection<AnyDoc>('many').insertOne({ _id: i, i });
          return (await c.db('relay').collection<AnyDoc>('many').findOne({ _id: i }))?.i;
        }),
      );
      assert.deepEqual(
        results,
        Array.from({ length: 50 }, (_, i) => i),
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('answers garbage and an oversized length with an error, closes only that connection, and keeps the others working', async () => {
    const oversized = await RawWireClient.open(gateway.port);
    // A header that declares 100 MB, beyond FerretDB's maxMessageSizeBytes (48 MB).
    const header = Buffer.alloc(16);
    header.writeInt32LE(100_000_000, 0);
    header.writeInt32LE(77, 4);
    header.writeInt32LE(OP_CODES.msg, 12);
    oversized.send(header);
    const reply = await oversized.next();
    assert.equal(reply.kind, 'msg');
    assert.equal(reply.kind === 'msg' && reply.msg.header.responseTo, 77);
    assert.equal(replyBody(reply).ok, 0);
    assert.match(String(replyBody(reply).errmsg), /exceeds the maximum message size of 48000000 bytes/);
    await oversized.waitClosed();

    const garbage = await RawWireClient.open(gateway.port);
    // A well-framed OP_MSG whose body is not BSON.
    const bad = Buffer.alloc(40, 0xff);
    bad.writeInt32LE(40, 0);
    bad.writeInt32LE(78, 4);
    bad.writeInt32LE(0, 8);
    bad.writeInt32LE(OP_CODES.msg, 12);
    bad.writeUInt32LE(0, 16);
    bad[20] = 0;
    garbage.send(bad);
    const garbageReply = await garbage.next();
    assert.equal(replyBody(garbageReply).ok, 0);
    assert.ok(String(replyBody(garbageReply).errmsg).length > 0);
    await garbage.waitClosed();

    assert.equal(await client.db('relay').collection<AnyDoc>('crud').countDocuments(), 2, 'the driver connection still works');
    const reasons = () => gateway.connections('closed').map((e) => e.message ?? '');
    await waitFor(() => reasons().filter((m) => m.startsWith('the client sent a malformed message: ')).length >= 2, 'two closed events');
    assert.ok(reasons().some((m) => /^the client sent a malformed message: .*exceeds the maximum message size/.test(m)));
  });

  it('refuses client authentication commands in OP_MSG and OP_QUERY form, without reaching the server', async () => {
    const raw = await RawWireClient.open(gateway.port);
    try {
      for (const [i, body] of [
        { saslStart: 1, mechanism: 'SCRAM-SHA-256', payload: Buffer.from('n,,n=x,r=abc'), $db: 'admin' },
        { saslContinue: 1, conversationId: 1, payload: Buffer.alloc(0), $db: 'admin' },
        { authenticate: 1, mechanism: 'MONGODB-X509', $db: '$external' },
        { logout: 1, $db: 'admin' },
        { hello: 1, speculativeAuthenticate: { saslStart: 1 }, $db: 'admin' },
      ].entries()) {
        raw.send(encodeOpMsg({ requestId: 100 + i, body }));
        const reply = await raw.next();
        assert.equal(reply.kind, 'msg');
        const b = replyBody(reply);
        assert.equal(b.ok, 0);
        assert.equal(b.code, 18);
        assert.equal(b.codeName, 'AuthenticationFailed');
        assert.match(b.errmsg, /^authentication is handled by the Portcullis gateway; connect without credentials/);
      }
      const { encodeOpQuery } = await import('../wire/op-query');
      raw.send(
        encodeOpQuery({
          requestId: 200,
          fullCollectionName: 'admin.$cmd',
          numberToReturn: -1,
          query: { saslStart: 1, mechanism: 'PLAIN' },
        }),
      );
      const legacy = await raw.next();
      assert.equal(legacy.kind, 'reply');
      assert.ok(legacy.kind === 'reply' && legacy.reply.responseFlags & OP_REPLY_FLAGS.queryFailure);
      assert.match(String(replyBody(legacy).$err), /handled by the Portcullis gateway/);
      // The connection stays usable and is still authenticated as the account.
      raw.send(encodeOpMsg({ requestId: 300, body: { connectionStatus: 1, $db: 'admin' } }));
      const status = replyBody(await raw.next());
      assert.deepEqual(status.authInfo.authenticatedUsers, [{ user: server.username, db: 'admin' }]);
    } finally {
      raw.close();
    }
    const refused = gateway.commands((e) => ['saslStart', 'saslContinue', 'authenticate', 'logout'].includes(e.command));
    assert.ok(refused.length >= 5 && refused.every((e) => e.outcome === 'error' && e.errorCode === 18));
    // A hello carrying credentials is handshake traffic, but refused: the attempt is on record.
    const refusedHello = gateway.commands((e) => e.command === 'hello' && e.input.includes('speculativeAuthenticate'));
    assert.equal(refusedHello.length, 1);
    assert.equal(refusedHello[0].errorCode, 18);
  });

  it('mongosh given a username and password fails clearly', async () => {
    const result = await runMongosh(`mongodb://someone:secret@127.0.0.1:${gateway.port}/`, 'db.runCommand({ ping: 1 })');
    assert.notEqual(result.code, 0);
    assert.match(result.stderr + result.stdout, /authentication is handled by the Portcullis gateway; connect without credentials/);
  });

  it('a user that only has SCRAM-SHA-1 is authenticated with SCRAM-SHA-1', async () => {
    const setup = await runMongosh(
      server.adminUri,
      `db.getSiblingDB('admin').createUser({ user: 'legacy-sha1', pwd: 'sha1-pass', roles: [], mechanisms: ['SCRAM-SHA-1'] });
       print(JSON.stringify(db.getSiblingDB('admin').runCommand({ usersInfo: 'legacy-sha1' }).users[0].mechanisms))`,
    );
    assert.equal(setup.code, 0, setup.stderr);
    assert.deepEqual(JSON.parse(setup.stdout.trim()), ['SCRAM-SHA-1']);
    const sha1Gateway = await startGateway(targetFor(server, { username: 'legacy-sha1', password: 'sha1-pass' }));
    const c = new MongoClient(sha1Gateway.uri, { serverSelectionTimeoutMS: 10_000 });
    try {
      const status = await c.db('admin').command({ connectionStatus: 1 });
      assert.deepEqual(status.authInfo.authenticatedUsers, [{ user: 'legacy-sha1', db: 'admin' }]);
    } finally {
      await c.close();
      await sha1Gateway.close();
    }
  });

  it('records a scripted mongosh session: command names, collections and document counts', async () => {
    const result = await runMongosh(
      gateway.uri,
      `const s = db.getSiblingDB('scripted');
       s.people.insertMany([{ name: 'ada', age: 36 }, { name: 'alan', age: 41 }, { name: 'grace', age: 85 }]);
       const found = s.people.find({ age: { $gt: 40 } }).toArray();
       s.people.updateOne({ name: 'ada' }, { $set: { age: 37 } });
       s.people.deleteOne({ name: 'grace' });
       s.people.createIndex({ name: 1 });
       print(JSON.stringify({ found: found.length, left: s.people.countDocuments() }));`,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout.trim().split('\n').pop() ?? ''), { found: 2, left: 2 });
    const events = gateway.commands((e) => e.database === 'scripted');
    assert.deepEqual(
      events.map((e) => [e.command, e.collection]),
      [
        ['insert', 'people'],
        ['find', 'people'],
        ['update', 'people'],
        ['delete', 'people'],
        ['createIndexes', 'people'],
        ['aggregate', 'people'],
      ],
    );
    assert.equal(events[0].affected, 3);
    assert.equal(events[1].documents, 2);
    assert.equal(events[2].affected, 1);
    assert.equal(events[3].affected, 1);
    assert.equal(events[5].documents, 1);
    const opened = gateway.connections('opened');
    assert.ok(
      opened.some((e) => /mongosh/.test(e.message ?? '')),
      'the opened event names the client',
    );
  });

  it('a wrong stored password: a readable error reply to the first command, a failed event, no password anywhere', async () => {
    const wrongPassword = 'Wrong-Stored-Password-123';
    const bad = await startGateway(targetFor(server, { password: wrongPassword }));
    try {
      const expected = `Portcullis gateway could not authenticate to the database as ${server.username} (SCRAM-SHA-256, auth database admin): Authentication failed. Check the account's stored password.`;
      // The first command on the connection gets the reason as its reply (not a silent close).
      const raw = await RawWireClient.open(bad.port);
      raw.send(encodeOpMsg({ requestId: 5, body: { find: 'crud', filter: {}, $db: 'relay' } }));
      const reply = await raw.next();
      assert.equal(reply.kind === 'msg' && reply.msg.header.responseTo, 5);
      assert.equal(replyBody(reply).errmsg, expected);
      assert.equal(replyBody(reply).codeName, 'AuthenticationFailed');
      await raw.waitClosed();

      const c = new MongoClient(bad.uri, { serverSelectionTimeoutMS: 2_000 });
      try {
        await assert.rejects(c.db('relay').collection<AnyDoc>('crud').findOne({}), (e: Error) => e.message.includes(expected));
      } finally {
        await c.close();
      }
      const shell = await runMongosh(`${bad.uri}?serverSelectionTimeoutMS=2000`, 'db.runCommand({ ping: 1 })');
      assert.notEqual(shell.code, 0);
      assert.match(shell.stderr + shell.stdout, /could not authenticate to the database as setup-admin/);

      const failed = bad.connections('failed');
      assert.ok(failed.length >= 1);
      assert.equal(failed[0].message, expected);
      assert.ok(!JSON.stringify(bad.events).includes(wrongPassword));
      assert.ok(!(shell.stderr + shell.stdout).includes(wrongPassword));
    } finally {
      await bad.close();
    }
  });

  it('fails the connection when the server signature is wrong (a tampering hop between gateway and FerretDB)', async () => {
    // Forwards bytes both ways, but changes one character of the SCRAM server signature ("v=...") on its way back.
    const tamperer = createServer((inbound) => {
      const outbound = connect(server.port, server.host);
      inbound.pipe(outbound);
      outbound.on('data', (chunk: Buffer) => {
        // The payload is BSON binary of subtype 0, so the server-final message starts right after a NUL byte.
        const at = chunk.indexOf('\0v=') + 1;
        if (at > 0 && chunk.length > at + 3) chunk[at + 2] = chunk[at + 2] === 0x41 ? 0x42 : 0x41;
        inbound.write(chunk);
      });
      const end = () => {
        inbound.destroy();
        outbound.destroy();
      };
      inbound.on('error', end).on('close', end);
      outbound.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => tamperer.listen(0, '127.0.0.1', resolve));
    const port = (tamperer.address() as AddressInfo).port;
    const fooled = await startGateway(targetFor(server, { connectionString: `mongodb://127.0.0.1:${port}/` }));
    try {
      const c = new MongoClient(fooled.uri, { serverSelectionTimeoutMS: 2_000 });
      try {
        await assert.rejects(c.db('admin').command({ ping: 1 }), /the server signature is wrong/);
      } finally {
        await c.close();
      }
      assert.match(fooled.connections('failed')[0]?.message ?? '', /could not authenticate .*the server signature is wrong/);
    } finally {
      await fooled.close();
      await new Promise((resolve) => tamperer.close(resolve));
    }
  });

  it('serveClient: stats() counts traffic and close(reason) ends the connection with a closed event', async () => {
    const events: SessionLogEvent[] = [];
    const served: ServedClient[] = [];
    const listener = createServer((socket) => {
      served.push(
        serveClient(socket, { target: targetFor(server), connectionId: `direct-${served.length}`, onEvent: (e) => events.push(e) }),
      );
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    const c = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 5_000, maxPoolSize: 1 });
    try {
      await c.db('relay').collection<AnyDoc>('crud').findOne({});
      const busy = served.find((s) => s.stats().commands >= 2);
      assert.ok(busy, 'one served connection ran the find');
      const stats = busy.stats();
      assert.ok(stats.handshakeCommands >= 1 && stats.bytesFromClient > 0 && stats.bytesToClient > 0);
      busy.close('session terminated by an admin');
      await busy.done;
      const closed = events.find((e) => e.kind === 'connection' && e.phase === 'closed' && e.message === 'session terminated by an admin');
      assert.ok(closed, 'a closed event carries the reason');
    } finally {
      await c.close();
      for (const s of served) s.close();
      await Promise.all(served.map((s) => s.done));
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it('emits closed events with counts and bytes, and never logs the stored password', async () => {
    const before = gateway.connections('closed').length;
    const c = new MongoClient(gateway.uri, { serverSelectionTimeoutMS: 10_000, appName: 'closing-test' });
    await c.db('admin').command({ ping: 1 });
    await c.db('relay').collection<AnyDoc>('crud').findOne({});
    await c.close();
    await waitFor(() => gateway.connections('closed').length >= before + 2, 'the closed events of both driver connections');
    const openedIds = new Set(
      gateway
        .connections('opened')
        .filter((e) => e.message?.includes('closing-test'))
        .map((e) => e.connectionId),
    );
    const closed = gateway.connections('closed').filter((e) => openedIds.has(e.connectionId));
    assert.ok(closed.length >= 1);
    const busiest = closed.reduce((a, b) => ((a.commands ?? 0) >= (b.commands ?? 0) ? a : b));
    assert.ok((busiest.commands ?? 0) >= 2);
    assert.ok((busiest.handshakeCommands ?? 0) >= 1);
    assert.ok((busiest.bytesFromClient ?? 0) > 0 && (busiest.bytesToClient ?? 0) > 0);
    assert.ok(!JSON.stringify(gateway.events).includes(server.password));
  });
});
