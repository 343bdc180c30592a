import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { createGatewayIdentity, createTunnelCaCertificate, issueSessionCertificate, type PemKeyPair } from './certificates';
import { certificateFingerprint } from './fingerprint';
import { acceptTunnel, connectTunnel, type TunnelRefused } from './tls';

/** Real TLS over a loopback TCP pair: what each side of the inner TLS accepts and refuses. */
describe('the inner TLS of a relayed stream', () => {
  let gateway: PemKeyPair;
  let caKey: KeyObject;
  let caPem: string;
  const projectId = 'prj_test';

  before(async () => {
    gateway = await createGatewayIdentity('gw-test');
    caKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    caPem = await createTunnelCaCertificate(caKey, projectId);
  });

  async function sessionCredentials(sessionId: string, notAfter = new Date(Date.now() + 3600_000), notBefore?: Date) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const certificatePem = await issueSessionCertificate({ caKey, projectId, publicKey: pair.publicKey, sessionId, notAfter, notBefore });
    return { keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certificatePem };
  }

  /** A TCP pair on loopback: `client` connects to `server`'s accepted socket. */
  async function pair(): Promise<{ client: Socket; server: Socket; close(): void }> {
    const listener: Server = createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as { port: number }).port;
    const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
    const client = tcpConnect(port, '127.0.0.1');
    const server = await accepted;
    return {
      client,
      server,
      close: () => {
        client.destroy();
        server.destroy();
        listener.close();
      },
    };
  }

  it('carries bytes both ways when both ends are the ones vouched for', async () => {
    const session = await sessionCredentials('ses_ok1');
    const sockets = await pair();
    try {
      const [client, server] = await Promise.all([
        connectTunnel(sockets.client, { ...session, gatewayFingerprint: certificateFingerprint(gateway.certificatePem) }),
        acceptTunnel(sockets.server, {
          ...gateway,
          clientCaPem: caPem,
          clientFingerprint: certificateFingerprint(session.certificatePem),
          sessionId: 'ses_ok1',
        }),
      ]);
      assert.equal(client.getProtocol(), 'TLSv1.3');
      server.on('data', (chunk) => server.write(Buffer.concat([Buffer.from('echo:'), chunk])));
      client.write('hello');
      const answer = await new Promise<string>((resolve) => client.once('data', (d) => resolve(d.toString())));
      assert.equal(answer, 'echo:hello');
    } finally {
      sockets.close();
    }
  });

  it('proxy-core refuses a gateway certificate other than the pinned one', async () => {
    const session = await sessionCredentials('ses_swap');
    const impostor = await createGatewayIdentity('impostor');
    const sockets = await pair();
    try {
      const [client] = await Promise.allSettled([
        connectTunnel(sockets.client, { ...session, gatewayFingerprint: certificateFingerprint(gateway.certificatePem) }),
        acceptTunnel(sockets.server, {
          ...impostor,
          clientCaPem: caPem,
          clientFingerprint: certificateFingerprint(session.certificatePem),
          sessionId: 'ses_swap',
        }),
      ]);
      assert.equal(client.status, 'rejected');
      const error = (client as PromiseRejectedResult).reason as TunnelRefused;
      assert.equal(error.code, 'gateway_certificate_mismatch');
      assert.match(error.message, /not the one the control plane vouched for/);
    } finally {
      sockets.close();
    }
  });

  it("the gateway refuses another session's genuine certificate", async () => {
    const other = await sessionCredentials('ses_other');
    const mine = await sessionCredentials('ses_mine');
    const sockets = await pair();
    try {
      const [, server] = await Promise.allSettled([
        connectTunnel(sockets.client, { ...other, gatewayFingerprint: certificateFingerprint(gateway.certificatePem) }),
        acceptTunnel(sockets.server, {
          ...gateway,
          clientCaPem: caPem,
          clientFingerprint: certificateFingerprint(mine.certificatePem),
          sessionId: 'ses_mine',
        }),
      ]);
      assert.equal(server.status, 'rejected');
      assert.equal(((server as PromiseRejectedResult).reason as TunnelRefused).code, 'session_certificate_mismatch');
    } finally {
      sockets.close();
    }
  });

  it('the gateway refuses an expired session certificate, even the pinned one', async () => {
    const expired = await sessionCredentials('ses_old', new Date(Date.now() - 60_000), new Date(Date.now() - 3600_000));
    const sockets = await pair();
    try {
      const [client, server] = await Promise.allSettled([
        connectTunnel(sockets.client, { ...expired, gatewayFingerprint: certificateFingerprint(gateway.certificatePem) }).then(
          // TLS 1.3: the client finishes first and hears the refusal on its first read.
          (socket) => new Promise((_, reject) => socket.once('error', reject).once('close', () => reject(new Error('closed')))),
        ),
        acceptTunnel(sockets.server, {
          ...gateway,
          clientCaPem: caPem,
          clientFingerprint: certificateFingerprint(expired.certificatePem),
          sessionId: 'ses_old',
        }),
      ]);
      assert.equal(server.status, 'rejected');
      assert.match(((server as PromiseRejectedResult).reason as Error).message, /expired/);
      assert.equal(client.status, 'rejected');
    } finally {
      sockets.close();
    }
  });

  it('the gateway refuses a certificate from another CA with the pinned subject', async () => {
    const otherCaKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const pairKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const forged = await issueSessionCertificate({
      caKey: otherCaKey,
      projectId,
      publicKey: pairKeys.publicKey,
      sessionId: 'ses_forged',
      notAfter: new Date(Date.now() + 3600_000),
    });
    const sockets = await pair();
    try {
      const [, server] = await Promise.allSettled([
        connectTunnel(sockets.client, {
          keyPem: pairKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
          certificatePem: forged,
          gatewayFingerprint: certificateFingerprint(gateway.certificatePem),
        }),
        // Even pinned to the forged certificate itself, the gateway trusts only the project's CA.
        acceptTunnel(sockets.server, {
          ...gateway,
          clientCaPem: caPem,
          clientFingerprint: certificateFingerprint(forged),
          sessionId: 'ses_forged',
        }),
      ]);
      assert.equal(server.status, 'rejected');
      assert.match(((server as PromiseRejectedResult).reason as Error).message, /no valid session certificate \(CERT_SIGNATURE_FAILURE\)/);
    } finally {
      sockets.close();
    }
  });

  it('the gateway refuses TLS 1.2', async () => {
    const session = await sessionCredentials('ses_tls12');
    const sockets = await pair();
    try {
      const old = tlsConnect({
        socket: sockets.client,
        ...session,
        key: session.keyPem,
        cert: session.certificatePem,
        maxVersion: 'TLSv1.2',
        rejectUnauthorized: false,
      });
      old.on('error', () => {});
      const server = await acceptTunnel(sockets.server, {
        ...gateway,
        clientCaPem: caPem,
        clientFingerprint: certificateFingerprint(session.certificatePem),
        sessionId: 'ses_tls12',
      }).catch((error: Error) => error);
      assert.ok(server instanceof Error);
      assert.match(server.message, /TLS 1\.3|handshake failed/);
    } finally {
      sockets.close();
    }
  });
});
