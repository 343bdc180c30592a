/**
 * A session through the real tunnel: startAccess → relay → gateway agent → engine → FerretDB (SCRAM), driven by
 * the official driver and mongosh with no password in their URI.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import type { AccessEvents, AccessHandle } from '../../proxy-core/access';
import { startAccess } from '../../proxy-core/access';
import { runMongosh } from '../bed/mongosh';
import { startTunnelBed, type TunnelBed, waitFor } from './tunnel-harness';

let bed: TunnelBed;

function access(extra: Partial<Parameters<typeof startAccess>[0]> = {}): Promise<AccessHandle> {
  return startAccess({
    server: bed.server,
    token: bed.token,
    accountId: bed.account.id,
    clientAgent: 'tunnel-test',
    pollIntervalMs: 500,
    ...extra,
  });
}

function nextEvent<E extends keyof AccessEvents>(handle: AccessHandle, event: E): Promise<AccessEvents[E][0]> {
  return new Promise((resolve) => handle.once(event, ((value: AccessEvents[E][0]) => resolve(value)) as never));
}

describe('tunnel: a session end to end', () => {
  before(async () => {
    bed = await startTunnelBed();
  });
  after(() => bed?.stop());

  it('serves the driver and mongosh without a password, and records their commands in the session log', async () => {
    const handle = await access();
    try {
      assert.match(handle.uri, /^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
      assert.doesNotMatch(handle.uri, /@/);
      const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000 });
      try {
        const items = client.db('tunnel').collection('items');
        await items.insertMany([{ _id: 'a', n: 1 } as never, { _id: 'b', n: 2 } as never]);
        const found = await items.find({ n: { $gte: 2 } }).toArray();
        assert.deepEqual(found, [{ _id: 'b', n: 2 }]);
      } finally {
        await client.close();
      }
      const shell = await runMongosh(handle.uri, `print(JSON.stringify(db.getSiblingDB('tunnel').items.countDocuments({})))`);
      assert.equal(shell.code, 0, shell.stderr + shell.stdout);
      assert.equal(shell.stdout.trim(), '2');
      assert.ok(handle.stats().connections >= 2);
      assert.ok(handle.stats().bytesIn > 0 || handle.stats().activeConnections >= 0);

      const sessionId = handle.session.id;
      await waitFor(async () => {
        const events = await bed.logs(sessionId);
        return events.some((e) => e.kind === 'command' && e.command === 'aggregate' && e.collection === 'items');
      }, 'the shell command in the session log');
      const events = await bed.logs(sessionId);
      const commands = events
        .filter((e) => e.kind === 'command')
        .map((e) => e.kind === 'command' && `${e.command} ${e.collection ?? ''}`.trim());
      assert.ok(commands.includes('insert items'), commands.join(', '));
      assert.ok(commands.includes('find items'), commands.join(', '));
      assert.ok(events.some((e) => e.kind === 'connection' && e.phase === 'opened'));
      // The account's password never reaches the log.
      assert.ok(!JSON.stringify(events).includes(bed.db.password));
    } finally {
      await handle.stop();
    }
  });

  it('stop() ends the session at the control plane and closes the listener and live connections', async () => {
    const handle = await access();
    const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 5000, maxPoolSize: 1 });
    try {
      await client.db('tunnel').command({ ping: 1 });
      const ended = nextEvent(handle, 'ended');
      await handle.stop();
      await handle.stop(); // twice is fine
      assert.deepEqual(await ended, { reason: 'stopped', message: 'the session was stopped' });
      const session = await bed.api.getSession(handle.session.id);
      assert.equal(session.state, 'ended');
      assert.equal(session.endReason, 'stopped');
      await assert.rejects(client.db('tunnel').command({ ping: 1 }, { timeoutMS: 3000 }));
      // The port is free again.
      await new Promise<void>((resolve, reject) => {
        const probe = createServer();
        probe.once('error', reject);
        probe.listen(handle.port, '127.0.0.1', () => probe.close(() => resolve()));
      });
    } finally {
      await client.close(true);
    }
  });

  it('an admin termination closes live connections within a second and the proxy reports terminated', async (t) => {
    const handle = await access({ pollIntervalMs: 60_000 }); // only the stream's close (and the check it triggers) can tell it in time
    const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 2000, maxPoolSize: 1, retryReads: false });
    try {
      await client.db('tunnel').command({ ping: 1 });
      const ended = nextEvent(handle, 'ended');
      const started = Date.now();
      await bed.api.terminateSession(handle.session.id);
      const event = await ended;
      assert.equal(event.reason, 'terminated');
      await assert.rejects(client.db('tunnel').command({ ping: 1 }, { timeoutMS: 1500 }));
      // Measured, not asserted (no timing assertions in tests): the command above fails because the connection is gone.
      t.diagnostic(`termination to failed command: ${Date.now() - started} ms`);
      assert.equal((await bed.api.getSession(handle.session.id)).state, 'terminated');
    } finally {
      await client.close(true);
      await handle.stop();
    }
  });

  it('notices a termination with no connection open, through its poll', async () => {
    const handle = await access({ pollIntervalMs: 200 });
    const ended = nextEvent(handle, 'ended');
    await bed.api.terminateSession(handle.session.id);
    assert.equal((await ended).reason, 'terminated');
    await handle.stop();
  });

  it('says clearly when the chosen port is in use, before creating a session', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const before = (await bed.api.listSessions({ accountId: bed.account.id, state: 'active' })).items.length;
      await assert.rejects(access({ port }), (error: Error) => {
        assert.match(error.message, new RegExp(`port ${port} .*already in use.*--port`));
        return true;
      });
      const afterCount = (await bed.api.listSessions({ accountId: bed.account.id, state: 'active' })).items.length;
      assert.equal(afterCount, before);
    } finally {
      blocker.close();
    }
  });

  it('a dropped relay stream closes only its own client connection; new connections keep working', async () => {
    const handle = await access();
    const a = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 5000, maxPoolSize: 1, retryReads: false });
    const b = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 5000, maxPoolSize: 1, retryReads: false });
    const closed: Array<AccessEvents['connection-closed'][0]> = [];
    handle.on('connection-closed', (event) => closed.push(event));
    const relaySockets: Socket[] = [];
    const capture = (req: IncomingMessage, socket: Socket) => {
      if (req.url?.startsWith('/api/v1/relay')) relaySockets.push(socket);
    };
    bed.cp.httpServer.on('upgrade', capture);
    try {
      await a.db('tunnel').command({ ping: 1 });
      await b.db('tunnel').command({ ping: 1 });
      // Cut exactly one relay stream at the TCP level, as a network drop would (no close handshake).
      const stats = bed.relay.stats();
      assert.ok(stats.pairedStreams >= 2, JSON.stringify(stats));
      const cut = closed.length;
      relaySockets[0].destroy();
      await waitFor(() => closed.length > cut, 'one connection to close');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(closed.length, cut + 1, JSON.stringify(closed));
      // The session goes on: a is or b is cut, the other keeps working, and a new client works.
      const results = await Promise.allSettled([
        a.db('tunnel').command({ ping: 1 }, { timeoutMS: 3000 }),
        b.db('tunnel').command({ ping: 1 }, { timeoutMS: 3000 }),
      ]);
      assert.ok(
        results.some((r) => r.status === 'fulfilled'),
        JSON.stringify(results),
      );
      assert.equal(handle.ended, false);
      const c = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 5000 });
      await c.db('tunnel').command({ ping: 1 });
      await c.close();
    } finally {
      bed.cp.httpServer.off('upgrade', capture);
      await a.close(true);
      await b.close(true);
      await handle.stop();
    }
  });
});
