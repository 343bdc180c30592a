import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DnsServer, startDnsServer } from '../../test/bed/dns';
import { ConnectionStringError, parseConnectionString, parseHostAddress } from './connection-string';
import { isUnderSrvDomain, resolveSrvConnectionString } from './srv';

describe('parseConnectionString', () => {
  it('reads hosts, ports, IPv6, read preference and options', () => {
    const parsed = parseConnectionString(
      'mongodb://Db1.example.test:27018,[::1]:27019,db3/?readPreference=secondaryPreferred&replicaSet=rs0&tls=false&authSource=users',
    );
    assert.deepEqual(parsed.hosts, [
      { host: 'db1.example.test', port: 27018 },
      { host: '::1', port: 27019 },
      { host: 'db3', port: 27017 },
    ]);
    assert.equal(parsed.readPreference, 'secondaryPreferred');
    assert.equal(parsed.replicaSet, 'rs0');
    assert.equal(parsed.tls, false);
    assert.equal(parsed.authSource, 'users');
    assert.equal(parsed.srvName, undefined);
  });

  it('defaults to primary, no TLS opinion, not load balanced', () => {
    const parsed = parseConnectionString('mongodb://db');
    assert.equal(parsed.readPreference, 'primary');
    assert.equal(parsed.tls, undefined);
    assert.equal(parsed.loadBalanced, false);
  });

  it('takes the SRV name from mongodb+srv', () => {
    const parsed = parseConnectionString('mongodb+srv://Cluster0.Example.test/?readPreference=nearest');
    assert.equal(parsed.srvName, 'cluster0.example.test');
    assert.deepEqual(parsed.hosts, []);
    assert.equal(parsed.readPreference, 'nearest');
  });

  it('refuses bad strings with a clear error, without echoing credentials', () => {
    assert.throws(() => parseConnectionString('http://db/'), ConnectionStringError);
    assert.throws(() => parseConnectionString('mongodb://db/?readPreference=fastest'), /readPreference=fastest is not one of/);
    assert.throws(() => parseConnectionString('mongodb://db/?tls=maybe'), /tls=maybe is not true or false/);
    assert.throws(
      () => parseConnectionString('mongodb://u:s3cret-pw@db/'),
      (e: Error) => /contains credentials/.test(e.message) && !e.message.includes('s3cret-pw'),
    );
    assert.throws(() => parseHostAddress('db:99999'), /invalid port/);
  });
});

describe('mongodb+srv resolution through a real DNS server on loopback', () => {
  let dns: DnsServer;
  before(async () => {
    dns = await startDnsServer({
      srv: {
        '_mongodb._tcp.cluster0.db.test': [
          { target: 'node1.db.test', port: 27017 },
          { target: 'node2.db.test.', port: 27018 },
        ],
        '_mongodb._tcp.evil.db.test': [{ target: 'node1.attacker.test', port: 27017 }],
        '_mongodb._tcp.twotxt.db.test': [{ target: 'node1.db.test', port: 27017 }],
        '_mongodb._tcp.badtxt.db.test': [{ target: 'node1.db.test', port: 27017 }],
      },
      txt: {
        'cluster0.db.test': [['replicaSet=rs0&', 'authSource=admin']],
        'twotxt.db.test': [['replicaSet=a'], ['replicaSet=b']],
        'badtxt.db.test': [['readPreference=secondary']],
      },
    });
  });
  after(() => dns?.stop());

  it('fills hosts from SRV and options from TXT; the string itself wins over TXT', async () => {
    const resolved = await resolveSrvConnectionString(
      parseConnectionString('mongodb+srv://cluster0.db.test/?authSource=other'),
      dns.resolver,
    );
    assert.deepEqual(resolved.hosts, [
      { host: 'node1.db.test', port: 27017 },
      { host: 'node2.db.test', port: 27018 },
    ]);
    assert.equal(resolved.replicaSet, 'rs0');
    assert.equal(resolved.authSource, 'other');
    assert.ok(dns.queries.includes('SRV _mongodb._tcp.cluster0.db.test'));
    assert.ok(dns.queries.includes('TXT cluster0.db.test'));
  });

  it('refuses SRV targets outside the domain, several TXT records and TXT options drivers do not allow', async () => {
    await assert.rejects(
      resolveSrvConnectionString(parseConnectionString('mongodb+srv://evil.db.test/'), dns.resolver),
      /outside the domain/,
    );
    await assert.rejects(resolveSrvConnectionString(parseConnectionString('mongodb+srv://twotxt.db.test/'), dns.resolver), /2 TXT records/);
    await assert.rejects(
      resolveSrvConnectionString(parseConnectionString('mongodb+srv://badtxt.db.test/'), dns.resolver),
      /only authSource, replicaSet, loadBalanced/,
    );
  });

  it('says which SRV name did not resolve', async () => {
    await assert.rejects(
      resolveSrvConnectionString(parseConnectionString('mongodb+srv://missing.db.test/'), dns.resolver),
      /could not resolve the SRV record _mongodb\._tcp\.missing\.db\.test/,
    );
  });

  it('checks the SRV domain rule', () => {
    assert.equal(isUnderSrvDomain('a.example.org', 'c.example.com'), false);
    assert.equal(isUnderSrvDomain('evilexample.com', 'c.example.com'), false);
    assert.equal(isUnderSrvDomain('a.example.com', 'c.example.com'), true);
    assert.equal(isUnderSrvDomain('x.localhost', 'localhost'), true);
    assert.equal(isUnderSrvDomain('localhost', 'localhost'), false);
  });
});
