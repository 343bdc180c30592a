import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientNetwork } from './client-network';

describe('client network', () => {
  it('is an IPv4 address itself', () => {
    assert.equal(clientNetwork('127.0.0.2'), '127.0.0.2');
    assert.equal(clientNetwork('203.0.113.7'), '203.0.113.7');
  });

  it('is the /64 of an IPv6 address, however the address is written', () => {
    const network = '2001:db8:0:1::/64';
    for (const address of ['2001:db8:0:1::1', '2001:DB8:0:1:ffff:ffff:ffff:ffff', '2001:0db8:0000:0001:0:0:0:2', '2001:db8:0:1::1%eth0']) {
      assert.equal(clientNetwork(address), network, address);
    }
    assert.notEqual(clientNetwork('2001:db8:0:2::1'), network);
    assert.equal(clientNetwork('::1'), '0:0:0:0::/64');
    assert.equal(clientNetwork('fe80::1%lo'), 'fe80:0:0:0::/64');
  });

  it('is the IPv4 address of an IPv4-mapped IPv6 address (a dual-stack listener)', () => {
    assert.equal(clientNetwork('::ffff:127.0.0.2'), '127.0.0.2');
    assert.equal(clientNetwork('::ffff:7f00:2'), '127.0.0.2');
  });
});
