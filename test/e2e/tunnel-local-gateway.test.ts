/**
 * The in-process path of `portcullis start`: the relay hands each user stream straight to a gateway agent in the
 * same process (options.localGateways) instead of sending `stream.open` and waiting for its loopback data stream.
 * Real FerretDB (SCRAM), real control plane and agent, the official driver and mongosh with no password.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { API_PREFIX } from '../../protocol/api';
import { GATEWAY_STREAM_PATH } from '../../protocol/gateway-channel';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { runMongosh } from '../bed/mongosh';
import { startTunnelBed, type TunnelBed, waitFor } from './tunnel-harness';

let bed: TunnelBed;
let localGatewayId: string | undefined;
/** Upgrades on the gateway's data-stream endpoint: the shortcut must leave it unused. */
let gatewayStreamUpgrades = 0;

const countGatewayStreams = (req: IncomingMessage) => {
  if (req.url?.startsWith(`${API_PREFIX}${GATEWAY_STREAM_PATH}/`)) gatewayStreamUpgrades++;
};

function access(extra: Partial<Parameters<typeof startAccess>[0]> = {}): Promise<AccessHandle> {
  return startAccess({
    server: bed.server,
    token: bed.token,
    accountId: bed.account.id,
    clientAgent: 'tunnel-local-test',
    pollIntervalMs: 500,
    ...extra,
  });
}

describe('tunnel: a gateway in the control plane process', () => {
  before(async () => {
    bed = await startTunnelBed({
      relay: {
        localGateways: {
          has: (gatewayId) => gatewayId === localGatewayId,
          serve: (_gatewayId, streamId, sessionId, socket) => bed.agent.serveLocalStream(streamId, sessionId, socket),
        },
      },
    });
    const [project] = await bed.api.listProjects();
    const [gateway] = await bed.api.listGateways(project.id);
    localGatewayId = gateway.id;
    bed.cp.httpServer.on('upgrade', countGatewayStreams);
  });
  after(async () => {
    bed?.cp.httpServer.off('upgrade', countGatewayStreams);
    await bed?.stop();
  });

  it('serves the driver and mongosh without a password, logs their commands, and opens no gateway data stream', async () => {
    const handle = await access();
    try {
      assert.doesNotMatch(handle.uri, /@/);
      const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000 });
      try {
        const items = client.db('local_gw').collection('items');
        await items.insertMany([{ _id: 'a', n: 1 } as never, { _id: 'b', n: 2 } as never]);
        assert.deepEqual(await items.find({ n: { $gte: 2 } }).toArray(), [{ _id: 'b', n: 2 }]);
        // While the driver's connections are open, every relay stream is an in-process one.
        const stats = bed.relay.stats();
        assert.ok(stats.localStreams >= 1, JSON.stringify(stats));
        assert.equal(stats.localStreams, stats.pairedStreams, JSON.stringify(stats));
        assert.equal(stats.pendingStreams, 0, JSON.stringify(stats));
      } finally {
        await client.close();
      }
      const shell = await runMongosh(handle.uri, `print(JSON.stringify(db.getSiblingDB('local_gw').items.countDocuments({})))`);
      assert.equal(shell.code, 0, shell.stderr + shell.stdout);
      assert.equal(shell.stdout.trim(), '2');

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
      assert.ok(!JSON.stringify(events).includes(bed.db.password));
      assert.equal(gatewayStreamUpgrades, 0);
    } finally {
      await handle.stop();
    }
  });

  it('an admin termination closes the in-process connection and the relay forgets it', async () => {
    const handle = await access({ pollIntervalMs: 60_000 });
    const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 2000, maxPoolSize: 1, retryReads: false });
    try {
      await client.db('local_gw').command({ ping: 1 });
      assert.ok(bed.relay.stats().localStreams >= 1);
      const ended = new Promise<{ reason: string }>((resolve) => handle.once('ended', resolve));
      await bed.api.terminateSession(handle.session.id);
      assert.equal((await ended).reason, 'terminated');
      await assert.rejects(client.db('local_gw').command({ ping: 1 }, { timeoutMS: 1500 }));
      await waitFor(() => bed.relay.stats().localStreams === 0, 'the relay to close the in-process stream');
      await waitFor(() => bed.agent.stats().activeConnections === 0, 'the gateway to close the connection');
      assert.equal((await bed.api.getSession(handle.session.id)).state, 'terminated');
      assert.equal(gatewayStreamUpgrades, 0);
    } finally {
      await client.close(true);
      await handle.stop();
    }
  });
});
