import assert from 'node:assert/strict';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MongoClient, MongoServerError } from 'mongodb';
import type { CommandEvent } from '../../protocol/session-log';
import { type FerretDBServer, startFerretDB } from '../../test/bed/ferretdb';
import { type CommandIdentity, CommandRefused, readCommand } from '../wire/command-identity';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../wire/constants';
import { MessageFramer } from '../wire/framer';
import { CommandRecorder } from './recorder';

/** The identity of a client request; the tap forwards authentication the gateway would refuse, and records it. */
function identityOf(raw: Buffer): CommandIdentity {
  try {
    return readCommand(raw);
  } catch (error) {
    if (error instanceof CommandRefused) return error.identity;
    throw error;
  }
}

/**
 * A TCP tap between a real driver and a real FerretDB: it frames both directions and feeds the recorder with each
 * message, as the gateway engine does. Unlike the gateway, it lets the driver authenticate to FerretDB itself, so
 * the SCRAM conversation is recorded as any command is (and must show no secret).
 */
async function startRecordingTap(target: { host: string; port: number }, onEvent: (e: CommandEvent) => void) {
  const sockets = new Set<Socket>();
  const recorders: CommandRecorder[] = [];
  let next = 0;
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(target.port, target.host);
    sockets.add(client).add(upstream);
    const recorder = new CommandRecorder({ maskPatterns: [], maxEventBytes: 8192, connectionId: `c${next++}`, onEvent });
    recorders.push(recorder);
    const fromClient = new MessageFramer({ maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE });
    const fromServer = new MessageFramer({ maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE });
    client.on('data', (chunk) => {
      for (const raw of fromClient.push(chunk)) recorder.onRequest(raw, identityOf(raw));
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      for (const raw of fromServer.push(chunk)) recorder.onReply(raw);
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tap has no port');
  return {
    port: address.port,
    recorders,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('CommandRecorder on a real exchange: mongodb driver → tap → FerretDB with SCRAM', () => {
  let server: FerretDBServer;
  let tap: Awaited<ReturnType<typeof startRecordingTap>>;
  const events: CommandEvent[] = [];
  let duplicateError: MongoServerError | undefined;
  let unknownCommandError: MongoServerError | undefined;
  const newUserPassword = 'Created-User-Pw-7f3a9c';
  const changedPassword = 'Changed-User-Pw-41d2e8';

  before(async () => {
    server = await startFerretDB();
    tap = await startRecordingTap(server, (e) => events.push(e));
    const uri = `mongodb://${encodeURIComponent(server.username)}:${encodeURIComponent(server.password)}@127.0.0.1:${tap.port}/?authSource=admin&authMechanism=SCRAM-SHA-256&directConnection=true`;
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
    try {
      const items = client.db('recording').collection<{ _id: number; name: string }>('items');
      await items.insertMany([
        { _id: 1, name: 'one' },
        { _id: 2, name: 'two' },
        { _id: 3, name: 'three' },
      ]);
      const found = await items.find({ _id: { $gte: 1 } }).toArray();
      assert.equal(found.length, 3);
      duplicateError = await items.insertOne({ _id: 1, name: 'again' }).then(
        () => undefined,
        (e) => e,
      );
      unknownCommandError = await client
        .db('recording')
        .command({ noSuchCommandHere: 1 })
        .then(
          () => undefined,
          (e) => e,
        );
      await client.db('recording').command({ createUser: 'recorded-user', pwd: newUserPassword, roles: [] });
      await client.db('recording').command({ updateUser: 'recorded-user', pwd: changedPassword });
    } finally {
      await client.close();
    }
  });
  after(async () => {
    await tap?.close();
    await server?.stop();
  });

  it('records the insert with its document sequence counted and the documents affected', () => {
    const insert = events.find((e) => e.command === 'insert' && e.outcome === 'ok');
    assert.ok(insert, JSON.stringify(events, null, 1));
    assert.equal(insert.database, 'recording');
    assert.equal(insert.collection, 'items');
    assert.match(insert.input, /"documents":"<3 documents>"/);
    assert.doesNotMatch(insert.input, /"three"/, 'the documents themselves are not copied');
    assert.doesNotMatch(insert.input, /lsid|\$clusterTime|\$db/);
    assert.equal(insert.affected, 3);
  });

  it('records the find with the documents it returned', () => {
    const find = events.find((e) => e.command === 'find');
    assert.ok(find);
    assert.equal(find.outcome, 'ok');
    assert.equal(find.collection, 'items');
    assert.equal(find.documents, 3);
    assert.match(find.input, /"filter":\{"_id":\{"\$gte":1\}\}/);
  });

  it('records the failed commands with the codes the driver saw', () => {
    assert.ok(duplicateError instanceof MongoServerError);
    const failedInsert = events.find((e) => e.command === 'insert' && e.outcome === 'error');
    assert.ok(failedInsert);
    assert.equal(failedInsert.errorCode, duplicateError.code);
    assert.equal(failedInsert.errorCode, 11000);
    assert.ok(unknownCommandError instanceof MongoServerError);
    const unknown = events.find((e) => e.command === 'noSuchCommandHere');
    assert.ok(unknown);
    assert.equal(unknown.outcome, 'error');
    assert.equal(unknown.errorCode, unknownCommandError.code);
    assert.equal(unknown.errorName, unknownCommandError.codeName);
  });

  it('counts the handshake without logging it, and never records the password', () => {
    assert.equal(
      events.some((e) => e.command === 'hello' || e.command === 'isMaster' || e.command === 'ismaster'),
      false,
    );
    const handshakes = tap.recorders.reduce((n, r) => n + r.counts().handshakeCommands, 0);
    assert.ok(handshakes >= 1, 'the driver handshake was counted');
    const everything = JSON.stringify(events);
    assert.ok(!everything.includes(server.password));
    assert.ok(!everything.includes(Buffer.from(server.password).toString('base64')));
  });

  it('records createUser and updateUser with their passwords masked', () => {
    const create = events.find((e) => e.command === 'createUser');
    assert.ok(create, JSON.stringify(events, null, 1));
    assert.equal(create.outcome, 'ok', create.errorMessage);
    assert.equal(create.database, 'recording');
    assert.equal(create.input, '{"createUser":"recorded-user","pwd":"***","roles":[]}');
    const update = events.find((e) => e.command === 'updateUser');
    assert.ok(update);
    assert.equal(update.input, '{"updateUser":"recorded-user","pwd":"***"}');
    const everything = JSON.stringify(events);
    assert.ok(!everything.includes(newUserPassword));
    assert.ok(!everything.includes(changedPassword));
  });

  it('records the SCRAM conversation with every payload masked', () => {
    const sasl = events.filter((e) => e.command === 'saslStart' || e.command === 'saslContinue');
    assert.ok(sasl.length >= 1, JSON.stringify(events.map((e) => e.command)));
    for (const event of sasl) assert.match(event.input, /"payload":"\*\*\*"/);
    assert.doesNotMatch(JSON.stringify(sasl), /<binary/);
  });
});
