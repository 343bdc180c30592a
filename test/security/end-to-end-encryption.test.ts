/**
 * End-to-end encryption of relayed streams, attacked from the relay's seat: a proxy in front of the control plane
 * through which the user's relay streams and the gateway's data streams pass (test/security/intercepting-relay.ts),
 * with the real tunnel to FerretDB behind it. It reads what the relay forwards, swaps the gateway's certificate,
 * presents other sessions' certificates to the gateway, and replays a recorded stream.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import { MongoClient } from 'mongodb';
import { plainConnector } from '../../bench/children/plain-tunnel';
import type { AccessGranted } from '../../protocol/api';
import { type AccessEvents, type AccessHandle, type AccessOptions, startAccess } from '../../proxy-core/access';
import { createGatewayIdentity } from '../../tunnel/certificates';
import { TUNNEL_ALPN } from '../../tunnel/tls';
import { freePort } from '../bed/ports';
import { startTunnelBed, type TunnelBed, waitFor } from '../e2e/tunnel-harness';
import { InterceptingRelay, replayStream } from './intercepting-relay';

let bed: TunnelBed;
let relay: InterceptingRelay;
const gatewayLog: string[] = [];
/** The `ok` field of a MongoDB reply, as BSON puts it on the wire (type double, name, NUL). */
const BSON_OK_ELEMENT = Buffer.from([0x01, 0x6f, 0x6b, 0x00]);

function access(extra: Pick<AccessOptions, 'connectTunnel'> = {}): Promise<AccessHandle> {
  return startAccess({
    server: bed.server,
    token: bed.token,
    accountId: bed.account.id,
    clientAgent: 'e2e-encryption-test',
    pollIntervalMs: 500,
    ...extra,
  });
}

function closedConnection(handle: AccessHandle): Promise<AccessEvents['connection-closed'][0]> {
  return new Promise((resolve) => handle.once('connection-closed', resolve));
}

/** A session certificate and its key, asked for the way a client does (the attacker is a user of the project). */
async function sessionOfMyOwn(): Promise<{ granted: AccessGranted; keyPem: string }> {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const granted = (await bed.api.requestAccess(bed.account.id, {
    tunnelPublicKey: pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  })) as AccessGranted;
  return { granted, keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

describe('end-to-end encryption: the relay forwards bytes it can neither read nor alter', () => {
  before(async () => {
    const controlPlanePort = await freePort();
    relay = new InterceptingRelay(() => controlPlanePort);
    await relay.listen();
    bed = await startTunnelBed({
      // Clients and the gateway reach the control plane (and its relay) through the interceptor.
      config: { publicUrl: relay.url, listenPort: controlPlanePort },
      gateway: {
        server: relay.url,
        logger: { info: (m) => gatewayLog.push(m), warn: (m) => gatewayLog.push(m), error: (m) => gatewayLog.push(m) },
      },
    });
  });
  after(async () => {
    await bed?.stop();
    await relay?.close();
  });

  it("carries a session whose documents appear nowhere in the relay's bytes", async () => {
    const marker = `portcullis-secret-${randomBytes(8).toString('hex')}`;
    const handle = await access();
    try {
      const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000 });
      try {
        const items = client.db('e2e').collection('secrets');
        await items.insertOne({ _id: marker as never, note: `${marker} in a field`, [marker]: 1 });
        const found = await items.findOne({ _id: marker as never });
        assert.equal(found?.note, `${marker} in a field`);
      } finally {
        await client.close();
      }
    } finally {
      await handle.stop();
    }
    const user = relay.forwarded('user');
    const gateway = relay.forwarded('gateway');
    assert.ok(user.length > 2000 && gateway.length > 2000, `the relay forwarded ${user.length} and ${gateway.length} bytes`);
    // The capture does see clear text where there is some: the relay's own answer heads.
    assert.ok(user.includes('101 Switching Protocols'));
    for (const [side, bytes] of [
      ['user', user],
      ['gateway', gateway],
    ] as const) {
      assert.equal(bytes.includes(marker), false, `the ${side} side of the relay carried the document in clear`);
      assert.equal(bytes.includes(Buffer.from(marker, 'utf16le')), false);
      // Nor the MongoDB wire protocol: no OP_MSG header of the insert, no BSON field names of the handshake.
      assert.equal(bytes.includes('isMaster') || bytes.includes('hello\u0000') || bytes.includes('insert\u0000'), false);
      // What flows is TLS 1.3 application data records.
      assert.ok(bytes.includes(Buffer.from([0x17, 0x03, 0x03])));
    }
  });

  it("proxy-core refuses a relay that answers with another certificate than the gateway's", async () => {
    const impostor = await createGatewayIdentity('impostor');
    let presented = false;
    relay.takeover.user = (peer: Socket, upstream: Socket) => {
      upstream.destroy();
      presented = true;
      const fake = new TLSSocket(peer, {
        isServer: true,
        key: impostor.keyPem,
        cert: impostor.certificatePem,
        ALPNProtocols: [TUNNEL_ALPN],
      } as never);
      fake.on('error', () => {});
      fake.on('data', () => assert.fail('proxy-core sent data to an impostor'));
    };
    const handle = await access();
    try {
      const closed = closedConnection(handle);
      const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 3000, directConnection: true });
      const failed = await client
        .db('e2e')
        .command({ ping: 1 })
        .then(() => false)
        .catch(() => true)
        .finally(() => client.close());
      assert.equal(failed, true, 'the driver reached a database through an impostor');
      const event = await closed;
      assert.ok(presented);
      assert.match(event.error ?? '', /not the one the control plane vouched for/);
    } finally {
      relay.takeover.user = undefined;
      await handle.stop();
    }
  });

  it("the gateway refuses a relay that presents another session's genuine certificate, or one of its own", async () => {
    const other = await sessionOfMyOwn();
    const outcomes: string[] = [];
    for (const forged of ['another session', 'self-signed'] as const) {
      const credentials =
        forged === 'another session'
          ? { key: other.keyPem, cert: other.granted.tunnel.clientCertificate }
          : await createGatewayIdentity('ses_forged').then((id) => ({ key: id.keyPem, cert: id.certificatePem }));
      const attempt = new Promise<string>((resolve) => {
        relay.takeover.gateway = (gatewaySide: Socket, upstream: Socket) => {
          upstream.destroy();
          const tls = tlsConnect({
            socket: gatewaySide,
            ...credentials,
            minVersion: 'TLSv1.3',
            ALPNProtocols: [TUNNEL_ALPN],
            rejectUnauthorized: false,
          });
          tls.on('secureConnect', () => {
            tls.write(Buffer.alloc(16));
          });
          tls.on('data', () => resolve('the gateway answered'));
          tls.on('error', (error: Error & { code?: string }) => resolve(`refused: ${error.code ?? error.message}`));
          tls.on('close', () => resolve('refused: closed'));
        };
      });
      const before = gatewayLog.length;
      const handle = await access();
      try {
        const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 3000, directConnection: true });
        await client
          .db('e2e')
          .command({ ping: 1 })
          .catch(() => undefined)
          .finally(() => client.close());
        outcomes.push(await attempt);
        await waitFor(() => gatewayLog.slice(before).some((line) => line.includes('refused')), 'the gateway to log the refusal');
        const refusal = gatewayLog.slice(before).find((line) => line.includes('refused')) ?? '';
        assert.match(refusal, new RegExp(`session ${handle.session.id}`));
        assert.match(refusal, forged === 'another session' ? /is not the one issued for session/ : /no valid session certificate/);
      } finally {
        relay.takeover.gateway = undefined;
        await handle.stop();
      }
    }
    assert.deepEqual(
      outcomes.map((o) => o.startsWith('refused')),
      [true, true],
      outcomes.join('; '),
    );
  });

  it("the gateway serves no stream in clear: a client without the inner TLS (the bench's unencrypted reference) gets nothing", async () => {
    const before = gatewayLog.length;
    const handle = await access({ connectTunnel: plainConnector });
    try {
      const closed = closedConnection(handle);
      const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 3000, directConnection: true });
      const answered = await client
        .db('e2e')
        .command({ ping: 1 })
        .then(() => true)
        .catch(() => false)
        .finally(() => client.close());
      assert.equal(answered, false, 'the gateway answered a client that skipped the inner TLS');
      await closed;
      await waitFor(() => gatewayLog.slice(before).some((line) => line.includes('refused')), 'the gateway to log the refusal');
      const refusal = gatewayLog.slice(before).find((line) => line.includes('refused')) ?? '';
      assert.match(refusal, new RegExp(`session ${handle.session.id} stream .*: refused`));
    } finally {
      await handle.stop();
    }
  });

  it('the gateway refuses a recorded stream replayed to it: the replayed insert does not run again', async () => {
    const marker = `replay-${randomBytes(6).toString('hex')}`;
    const handle = await access();
    const first = relay.streams.length;
    try {
      const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000, directConnection: true, maxPoolSize: 1 });
      try {
        await client.db('e2e').collection('replayed').insertOne({ marker });
      } finally {
        await client.close();
      }
      const recorded = relay.streams.slice(first).filter((s) => s.kind === 'user' && s.toServer.length > 0);
      assert.ok(recorded.length > 0, 'no user stream was recorded');
      const before = gatewayLog.length;
      for (const stream of recorded) {
        // Straight to the control plane, with the recorded ticket (still valid) and the recorded client bytes.
        const replay = await replayStream(bed.cp.port, stream.requestHead, Buffer.concat(stream.toServer));
        // No reply in clear: a reply's "ok" field is the BSON element 0x01 'ok' 0x00. (The two letters alone turn up in
        // the handshake's random bytes now and then.)
        assert.equal(replay.received.includes(BSON_OK_ELEMENT), false);
      }
      await waitFor(() => gatewayLog.slice(before).some((line) => line.includes('refused')), 'the gateway to refuse the replay');
    } finally {
      await handle.stop();
    }
    const check = new MongoClient(bed.db.adminUri);
    try {
      assert.equal(await check.db('e2e').collection('replayed').countDocuments({ marker }), 1);
    } finally {
      await check.close();
    }
  });
});
