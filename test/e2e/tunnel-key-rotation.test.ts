/**
 * Rotating a gateway's tunnel key (end-to-end encryption): the gateway restarts with a new key pair, as
 * `portcullis gateway start --rotate-tunnel-key` does, while another gateway's session carries on untouched.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { type GatewayAgent, startGatewayAgent } from '../../gateway/agent/agent';
import { enrollGateway } from '../../gateway/agent/enroll';
import type { AccountDto } from '../../protocol/api';
import { type AccessEvents, type AccessHandle, startAccess } from '../../proxy-core/access';
import { collectPages } from '../../proxy-core/api-client';
import { createGatewayIdentity } from '../../tunnel/certificates';
import { certificateFingerprint } from '../../tunnel/fingerprint';
import { removeTempDir, trackTempDir } from '../bed/processes';
import { startTunnelBed, type TunnelBed, waitFor } from './tunnel-harness';

let bed: TunnelBed;
let rotating: GatewayAgent | undefined;
let credential: string;
let account: AccountDto;
let projectId: string;
const spoolDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-rotation-')));

function access(accountId: string): Promise<AccessHandle> {
  return startAccess({ server: bed.server, token: bed.token, accountId, pollIntervalMs: 500 });
}

async function ping(uri: string): Promise<void> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.db('rotation').command({ ping: 1 });
  } finally {
    await client.close();
  }
}

async function startRotating(): Promise<{ agent: GatewayAgent; fingerprint: string }> {
  const identity = await createGatewayIdentity('rotating');
  const agent = await startGatewayAgent({
    server: bed.server,
    credential,
    tunnelIdentity: identity,
    reconnect: { initialMs: 100, maxMs: 1000 },
    spoolDir,
  });
  await waitFor(() => agent.status() === 'online', 'the rotating gateway online');
  return { agent, fingerprint: certificateFingerprint(identity.certificatePem) };
}

describe("tunnel: rotating a gateway's tunnel key", () => {
  before(async () => {
    bed = await startTunnelBed();
    [{ id: projectId }] = await bed.api.listProjects();
    const enrollment = await bed.api.createEnrollmentToken({ projectId, name: 'rotating' });
    ({ credential } = await enrollGateway({ server: bed.server, token: enrollment.token, name: 'rotating' }));
  });
  after(async () => {
    await rotating?.stop().catch(() => {});
    await bed?.stop();
    removeTempDir(spoolDir);
  });

  it("serves new sessions with the new key, refuses the old key's sessions clearly, and leaves other gateways' sessions running", async () => {
    const first = await startRotating();
    rotating = first.agent;
    const gateways = await bed.api.listGateways(projectId);
    const rotatingId = gateways.find((g) => g.name === 'rotating')?.id ?? '';
    const resource = await bed.api.createResource(projectId, {
      name: 'ferret-via-rotating',
      gatewayId: rotatingId,
      connectionString: bed.db.uri,
      authDatabase: 'admin',
      tlsEnabled: false,
    });
    account = await bed.api.createAccount(resource.id, {
      name: 'rotating-admin',
      username: bed.db.username,
      password: bed.db.password,
      maxSessionDurationSeconds: 3600,
    });

    // A session on the other gateway, with a connection held open across the rotation.
    const steady = await access(bed.account.id);
    const held = new MongoClient(steady.uri, { serverSelectionTimeoutMS: 5000, maxPoolSize: 1 });
    const before = await access(account.id);
    try {
      await held.db('rotation').command({ ping: 1 });
      await ping(before.uri);
      const heldConnections = steady.stats().activeConnections;

      // The rotation: the gateway stops and comes back with a new key pair (same credential).
      await first.agent.stop();
      const second = await startRotating();
      rotating = second.agent;
      assert.notEqual(second.fingerprint, first.fingerprint);

      // The other gateway's session did not notice: same connection, still answering.
      await held.db('rotation').command({ ping: 1 });
      assert.equal(steady.stats().activeConnections, heldConnections);
      assert.equal((await bed.api.getSession(steady.session.id)).state, 'active');

      // A session that pinned the old key gets a clear refusal on its next connection...
      const closed = new Promise<AccessEvents['connection-closed'][0]>((resolve) => before.once('connection-closed', resolve));
      await assert.rejects(ping(before.uri));
      assert.match((await closed).error ?? '', /not the one the control plane vouched for.*rotated the gateway's key/);

      // ...and a new session pins the new key and works.
      const after = await access(account.id);
      try {
        await ping(after.uri);
      } finally {
        await after.stop();
      }

      // The change is in the audit log, with both fingerprints.
      const audit = await collectPages((cursor) => bed.api.listAudit(projectId, { cursor, limit: 200 }));
      const changes = audit.filter((e) => e.action === 'gateway.tunnel_key.changed' && e.targetId === rotatingId);
      assert.deepEqual(
        changes.map((e) => [e.details.previousFingerprint, e.details.fingerprint]),
        [
          [first.fingerprint, second.fingerprint],
          [null, first.fingerprint],
        ],
      );
    } finally {
      await held.close();
      await before.stop();
      await steady.stop();
    }
  });
});
