import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, describe, it } from 'node:test';
import { type WebSocket, WebSocketServer } from 'ws';
import type { GatewayToServer, ReplicaInfo, ServerToGateway } from '../../protocol/gateway-channel';
import { ReplicaChannels } from './replica-channels';

/** A stand-in replica: a real WebSocket endpoint that answers hello with a welcome naming `replicas()`. */
class FakeReplica {
  readonly hellos: Extract<GatewayToServer, { type: 'hello' }>[] = [];
  readonly sockets = new Set<WebSocket>();
  private readonly http: Server = createServer();
  private readonly wss = new WebSocketServer({ server: this.http });
  url = '';

  constructor(
    readonly id: string,
    private readonly replicas: () => ReplicaInfo[],
  ) {
    this.wss.on('connection', (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      ws.on('message', (data) => {
        const message = JSON.parse(String(data)) as GatewayToServer;
        if (message.type !== 'hello') return;
        this.hellos.push(message);
        ws.send(
          JSON.stringify({
            type: 'welcome',
            gatewayId: 'gw_1',
            heartbeatIntervalMs: 60_000,
            replicaId: this.id,
            replicas: this.replicas(),
          } satisfies ServerToGateway),
        );
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    const address = this.http.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    this.url = `http://127.0.0.1:${address.port}`;
    return this;
  }

  broadcast(message: ServerToGateway): void {
    for (const ws of this.sockets) ws.send(JSON.stringify(message));
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    await new Promise((resolve) => this.http.close(resolve));
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('gateway channels to control-plane replicas', () => {
  const opened: { stop(): void }[] = [];
  const servers: FakeReplica[] = [];
  after(async () => {
    for (const channels of opened) channels.stop();
    await Promise.all(servers.map((s) => s.close()));
  });

  const channelsTo = (server: string) => {
    const channels = new ReplicaChannels({ server, credential: 'gwc_test', version: 'test', log: () => {} });
    opened.push(channels);
    channels.start();
    return channels;
  };

  it('opens a channel to each live replica, naming it and this process, and closes those no longer needed', async () => {
    let live: ReplicaInfo[] = [];
    const a = await new FakeReplica('rep_a', () => live).listen();
    const b = await new FakeReplica('rep_b', () => live).listen();
    servers.push(a, b);
    live = [
      { id: 'rep_a', url: a.url },
      { id: 'rep_b', url: b.url },
    ];
    // The starting address is replica a under another name (as a balancer would be).
    const channels = channelsTo(`${a.url}/behind-a-balancer`);
    await until(() => b.hellos.length === 1 && a.hellos.length === 2, 'a channel to each replica');
    const toB = b.hellos[0];
    assert.equal(toB.replicaId, 'rep_b');
    assert.ok(toB.instance?.startsWith('gwi_'));
    assert.ok(
      a.hellos.every((h) => h.instance === toB.instance),
      'every channel names the same gateway process',
    );
    assert.deepEqual(a.hellos.map((h) => h.replicaId ?? 'starting').sort(), ['rep_a', 'starting']);
    assert.deepEqual(channels.replicaIds().sort(), ['rep_a', 'rep_b']);

    live = [{ id: 'rep_a', url: a.url }];
    a.broadcast({ type: 'replicas', replicas: live });
    await until(() => b.sockets.size === 0, 'the channel to the replica that left to close');
    // Replica a is now alone and the starting channel reaches it: its second channel goes too.
    await until(() => a.sockets.size === 1, 'one channel left, to the starting address');
    assert.deepEqual(channels.replicaIds(), []);
    assert.equal(channels.status, 'online');
  });

  it('keeps the single channel of a lone replica reached at the starting address, whatever address it registered', async () => {
    const lone = await new FakeReplica('rep_lone', () => [{ id: 'rep_lone', url: 'http://portcullis.invalid:8443' }]).listen();
    servers.push(lone);
    const channels = channelsTo(lone.url);
    await until(() => lone.hellos.length === 1, 'the starting channel');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(channels.replicaIds(), [], 'no second channel to the registered address');
    assert.equal(channels.status, 'online');
  });
});
