import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseMechanism } from './connect-upstream';
import { roleOf, type ServerCandidate, selectServer } from './server-selection';

const member = (host: string, state: 'primary' | 'secondary' | 'arbiter', roundTripMs: number, setName = 'rs0'): ServerCandidate => ({
  address: { host, port: 27017 },
  roundTripMs,
  hello: {
    setName,
    isWritablePrimary: state === 'primary',
    secondary: state === 'secondary',
    arbiterOnly: state === 'arbiter',
  },
});

describe('selectServer', () => {
  const set = [member('p', 'primary', 5), member('s1', 'secondary', 9), member('s2', 'secondary', 2), member('a', 'arbiter', 1)];

  it('picks by read preference', () => {
    assert.equal(selectServer(set, 'primary').address.host, 'p');
    assert.equal(selectServer(set, 'primaryPreferred').address.host, 'p');
    assert.equal(selectServer(set, 'secondary').address.host, 's2', 'the nearest secondary');
    assert.equal(selectServer(set, 'secondaryPreferred').address.host, 's2');
    assert.equal(selectServer(set, 'nearest').address.host, 's2');
  });

  it('falls back as the preferred modes allow, and fails clearly otherwise', () => {
    const noPrimary = [member('s1', 'secondary', 3)];
    assert.equal(selectServer(noPrimary, 'primaryPreferred').address.host, 's1');
    assert.throws(
      () => selectServer(noPrimary, 'primary'),
      /no server matches readPreference=primary; found: s1:27017 \(secondary of rs0\)/,
    );
    const onlyPrimary = [member('p', 'primary', 3)];
    assert.equal(selectServer(onlyPrimary, 'secondaryPreferred').address.host, 'p');
    assert.throws(() => selectServer(onlyPrimary, 'secondary'), /readPreference=secondary/);
    assert.throws(() => selectServer([], 'nearest'), /found: none reachable/);
  });

  it('ignores members of another set when replicaSet is given', () => {
    assert.throws(() => selectServer([member('p', 'primary', 1, 'other')], 'primary', 'rs0'), /no server in replica set rs0/);
  });

  it('takes a standalone or mongos whatever the read preference', () => {
    const mongos: ServerCandidate = {
      address: { host: 'm', port: 1 },
      roundTripMs: 1,
      hello: { msg: 'isdbgrid', isWritablePrimary: true },
    };
    assert.equal(selectServer([mongos], 'secondary').address.host, 'm');
    assert.equal(roleOf({ isWritablePrimary: true }), 'standalone');
    assert.equal(roleOf({ isreplicaset: true, setName: 'x' }), 'other');
  });
});

describe('chooseMechanism', () => {
  it('prefers SCRAM-SHA-256 and uses SCRAM-SHA-1 only when that is all the account has', () => {
    assert.equal(chooseMechanism({ saslSupportedMechs: ['SCRAM-SHA-1', 'SCRAM-SHA-256'] }), 'SCRAM-SHA-256');
    assert.equal(chooseMechanism({ saslSupportedMechs: ['SCRAM-SHA-1'] }), 'SCRAM-SHA-1');
    assert.equal(chooseMechanism({}), 'SCRAM-SHA-256', 'unknown user: SHA-256, which fails as authentication failed');
  });
});
