import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import type { MongoTarget } from '../../protocol/target';
import { type DnsServer, startDnsServer } from '../../test/bed/dns';
import { type FerretDBServer, startFerretDB } from '../../test/bed/ferretdb';
import { startGateway, type TestGateway, targetFor } from './harness';

/** Sends one ping through a gateway for `target`; returns the error message, or 'ok'. */
async function pingThrough(
  target: MongoTarget,
  options: Parameters<typeof startGateway>[1] = {},
): Promise<{ result: string; gateway: TestGateway }> {
  const gateway = await startGateway(target, options);
  const client = new MongoClient(gateway.uri, { serverSelectionTimeoutMS: 2_000 });
  try {
    const reply = await client.db('admin').command({ ping: 1 });
    return { result: reply.ok === 1 ? 'ok' : JSON.stringify(reply), gateway };
  } catch (error) {
    return { result: (error as Error).message, gateway };
  } finally {
    await client.close();
    await gateway.close();
  }
}

describe('gateway TLS to MongoDB: verification on by default, extra CA, hostname check', () => {
  let verified: FerretDBServer;
  let selfSigned: FerretDBServer;
  let wrongHost: FerretDBServer;
  let dns: DnsServer;

  const tlsTarget = (server: FerretDBServer, tls: Partial<MongoTarget['tls']> = {}, host = 'localhost'): MongoTarget =>
    targetFor(server, {
      connectionString: `mongodb://${host}:${server.tlsPort}/`,
      tls: { enabled: true, rejectUnauthorized: true, ...tls },
    });

  before(async () => {
    [verified, selfSigned, wrongHost] = await Promise.all([
      startFerretDB({ tls: 'verified' }),
      startFerretDB({ tls: 'selfSigned' }),
      startFerretDB({ tls: 'wrongHost' }),
    ]);
    dns = await startDnsServer({
      srv: { '_mongodb._tcp.secure.db.test': [{ target: 'node1.db.test', port: selfSigned.tlsPort! }] },
      a: { 'node1.db.test': ['127.0.0.1'] },
    });
  });
  after(async () => {
    await dns?.stop();
    await Promise.all([verified?.stop(), selfSigned?.stop(), wrongHost?.stop()]);
  });

  it('connects to a server whose certificate the target CA signed (CA added to the default roots)', async () => {
    const { result } = await pingThrough(tlsTarget(verified, { caCertificate: verified.certs!.ca.certPem }));
    assert.equal(result, 'ok');
    const byIp = await pingThrough(tlsTarget(verified, { caCertificate: verified.certs!.ca.certPem }, '127.0.0.1'));
    assert.equal(byIp.result, 'ok', 'an IP address is checked against the IP SAN');
  });

  it('refuses the same server without the CA: verification is on', async () => {
    const { result, gateway } = await pingThrough(tlsTarget(verified));
    assert.match(
      result,
      /Portcullis gateway could not reach the database: the TLS connection to portcullis:database failed: .*(certificate|UNABLE_TO)/,
    );
    assert.match(gateway.connections('failed')[0]?.message ?? '', /TLS/);
    assert.match(gateway.connections('failed')[0]?.detail ?? '', /the TLS connection to localhost:\d+ failed/, 'the admin sees where');
  });

  it('refuses a self-signed certificate, and accepts it when verification is turned off', async () => {
    const refused = await pingThrough(tlsTarget(selfSigned));
    assert.match(refused.result, /self-signed certificate|DEPTH_ZERO_SELF_SIGNED_CERT/);
    const accepted = await pingThrough(tlsTarget(selfSigned, { rejectUnauthorized: false }));
    assert.equal(accepted.result, 'ok');
  });

  it('refuses a CA-signed certificate made for another host name', async () => {
    const { result } = await pingThrough(tlsTarget(wrongHost, { caCertificate: wrongHost.certs!.ca.certPem }));
    assert.match(result, /ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate's altnames/);
  });

  it('plain TCP to a TLS-only port fails clearly when TLS is turned off', async () => {
    const { result } = await pingThrough(tlsTarget(verified, { enabled: false }));
    assert.match(result, /Portcullis gateway could not reach the database/);
  });

  it('turns TLS on by default for mongodb+srv, as drivers do', async () => {
    // The SRV host serves only TLS: a plain connection could not ping.
    const target = targetFor(selfSigned, {
      connectionString: 'mongodb+srv://secure.db.test/',
      tls: { enabled: false, rejectUnauthorized: false },
    });
    const { result } = await pingThrough(target, { resolver: dns.resolver });
    assert.equal(result, 'ok');
  });
});
