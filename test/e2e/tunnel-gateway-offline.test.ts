/**
 * The gateway goes away: its sessions end with gateway_offline after the relay's grace period, and the local
 * proxy reports it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { startAccess } from '../../proxy-core/access';
import { startTunnelBed, type TunnelBed } from './tunnel-harness';

let bed: TunnelBed;

describe('tunnel: the gateway goes offline', () => {
  before(async () => {
    bed = await startTunnelBed({ relay: { offlineGraceMs: 1000 } });
  });
  after(() => bed?.stop());

  it('ends the session with gateway_offline after the grace period, and the proxy says so', async () => {
    const handle = await startAccess({ server: bed.server, token: bed.token, accountId: bed.account.id, pollIntervalMs: 300 });
    const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 5000 });
    try {
      await client.db('tunnel').command({ ping: 1 });
      const ended = new Promise<{ reason: string; message: string }>((resolve) => handle.once('ended', resolve));
      await bed.agent.stop();
      assert.equal(bed.agent.status(), 'offline');
      const event = await ended;
      assert.equal(event.reason, 'gateway_offline');
      assert.match(event.message, /gateway/);
      const session = await bed.api.getSession(handle.session.id);
      assert.equal(session.endReason, 'gateway_offline');
    } finally {
      await client.close(true);
      await handle.stop();
    }
  });
});
