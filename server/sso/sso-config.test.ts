import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { redirectProblem } from './client-redirects';
import { groupsOfClaim, membershipsFromGroups } from './group-mapping';
import { loadSsoConfigFromEnv, parseGroupMap } from './sso-config';

const BASE = { PORTCULLIS_SSO_ISSUER: 'https://login.example.com/realms/acme', PORTCULLIS_SSO_CLIENT_ID: 'portcullis' };

describe('single sign-on settings', () => {
  it('is off without an issuer, and says which setting lacks it when another is set', () => {
    assert.equal(loadSsoConfigFromEnv({}), undefined);
    assert.throws(
      () => loadSsoConfigFromEnv({ PORTCULLIS_SSO_CLIENT_ID: 'x' }),
      /PORTCULLIS_SSO_CLIENT_ID is set but PORTCULLIS_SSO_ISSUER is not/,
    );
  });

  it('reads the client secret from a file, and refuses to start without one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-sso-config-'));
    try {
      const file = join(dir, 'secret');
      writeFileSync(file, 'from-the-file\n');
      chmodSync(file, 0o600);
      assert.equal(loadSsoConfigFromEnv({ ...BASE, PORTCULLIS_SSO_CLIENT_SECRET_FILE: file })?.clientSecret, 'from-the-file');
      assert.throws(() => loadSsoConfigFromEnv(BASE), /needs the client secret: put it in a file .* PORTCULLIS_SSO_CLIENT_SECRET_FILE/);
      assert.throws(
        () => loadSsoConfigFromEnv({ ...BASE, PORTCULLIS_SSO_CLIENT_SECRET_FILE: join(dir, 'missing') }),
        /cannot read PORTCULLIS_SSO_CLIENT_SECRET_FILE .*missing: ENOENT/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a plain-http issuer that is not loopback', () => {
    assert.throws(
      () => loadSsoConfigFromEnv({ ...BASE, PORTCULLIS_SSO_ISSUER: 'http://login.example.com', PORTCULLIS_SSO_CLIENT_SECRET: 's' }),
      /must use https \(plain http only on loopback/,
    );
    assert.ok(loadSsoConfigFromEnv({ ...BASE, PORTCULLIS_SSO_ISSUER: 'http://127.0.0.1:9000', PORTCULLIS_SSO_CLIENT_SECRET: 's' }));
  });

  it('always asks for the openid scope, and defaults the rest', () => {
    const config = loadSsoConfigFromEnv({ ...BASE, PORTCULLIS_SSO_CLIENT_SECRET: 's', PORTCULLIS_SSO_SCOPES: 'email groups' });
    assert.deepEqual(config?.scopes, ['openid', 'email', 'groups']);
    assert.equal(config?.groupsClaim, 'groups');
    assert.equal(config?.passwordSignIn, true);
    assert.equal(config?.acceptIdpMfa, false);
  });
});

describe('group map', () => {
  it('reads groups, projects and roles; project names may hold a colon', () => {
    const map = parseGroupMap('platform-admins=default:admin; /team/dev = default:member, shop:eu:member\ncn=ops,dc=x=ops:member');
    assert.deepEqual(map.get('platform-admins'), [{ project: 'default', role: 'admin' }]);
    assert.deepEqual(map.get('/team/dev'), [
      { project: 'default', role: 'member' },
      { project: 'shop:eu', role: 'member' },
    ]);
    assert.deepEqual(map.get('cn=ops,dc=x'), [{ project: 'ops', role: 'member' }], 'an LDAP group name keeps its "=" and ","');
  });

  it('refuses an entry it cannot read, naming it', () => {
    assert.throws(
      () => parseGroupMap('admins=default:owner'),
      /cannot read "admins=default:owner": the role must be admin or member, got "owner"/,
    );
    assert.throws(() => parseGroupMap('admins'), /cannot read "admins": it needs GROUP=PROJECT:ROLE/);
    assert.throws(() => parseGroupMap('admins=default'), /"default" needs PROJECT:ROLE/);
  });

  it('gives the highest role when several groups name a project', () => {
    const map = parseGroupMap('dev=default:member,shop:member; ops=default:admin');
    assert.deepEqual(
      [...membershipsFromGroups(['dev', 'ops', 'sales'], map)],
      [
        ['default', 'admin'],
        ['shop', 'member'],
      ],
    );
    assert.deepEqual([...membershipsFromGroups(['sales'], map)], []);
  });

  it('takes a groups claim as a list or a single name, ignoring what is not a name', () => {
    assert.deepEqual(groupsOfClaim(['a', 1, { b: 2 }, 'c']), ['a', 'c']);
    assert.deepEqual(groupsOfClaim('only'), ['only']);
    assert.deepEqual(groupsOfClaim(undefined), []);
  });
});

describe('where a sign-in may come back to', () => {
  it('allows loopback on any port, the extension in an editor scheme, and listed origins only', () => {
    assert.equal(redirectProblem('http://127.0.0.1:53121/portcullis/sso', []), null);
    assert.equal(redirectProblem('http://[::1]:53121/cb', []), null);
    assert.equal(redirectProblem('vscode://portcullis.portcullis/sso', []), null);
    assert.equal(redirectProblem('https://console.example.com/sso', ['https://console.example.com']), null);
    assert.match(redirectProblem('https://evil.example/sso', ['https://console.example.com']) ?? '', /not allowed/);
    assert.match(redirectProblem('http://127.0.0.1.evil.example/cb', []) ?? '', /not allowed/);
    assert.match(redirectProblem('vscode://someone.else/sso', []) ?? '', /must be for the extension/);
    assert.match(redirectProblem('http://127.0.0.1:1/cb#frag', []) ?? '', /fragment/);
  });
});
