/**
 * Resources and accounts through the API: connection string and CA rules, names unique where they must be,
 * validation errors in the API's JSON shape, and secrets (account passwords, user passwords) that never come
 * back: not in any response, not in the server's log, not in the SQLite file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { AccessGranted, AccountDto, ResourceDto } from '../../protocol/api';
import { makeTestCerts, type TestCerts } from '../bed/certs';
import { accessBody } from '../bed/tunnel-key';
import { type CallOptions, type CallResult, describeApi, enrollGateway, seedWorld, type World } from './api-harness';

const SECRET_ACCOUNT_PASSWORD = 'Zq8-account-secret-ALPHA-7731';
const CHANGED_ACCOUNT_PASSWORD = 'Zq8-account-secret-BRAVO-9902';
const SECRET_USER_PASSWORD = 'Zq8-user-secret-CHARLIE-4417';

describeApi('resources, accounts and secrets', ['sqlite'], (server) => {
  let w: World;
  let certs: TestCerts;
  let certDir: string;
  /** Every response body this suite received, to search for secrets at the end. */
  const responses: string[] = [];
  const call = async (method: string, path: string, options?: CallOptions): Promise<CallResult> => {
    const result = await server().call(method, path, options);
    responses.push(JSON.stringify(result.body ?? null));
    return result;
  };
  const newResource = (body: Record<string, unknown>) =>
    call('POST', '/resources', {
      token: w.adminToken,
      body: { projectId: w.projectId, gatewayId: w.gateway.gatewayId, connectionString: 'mongodb://db:27017', ...body },
    });

  before(async () => {
    w = await seedWorld(server());
    certDir = mkdtempSync(join(tmpdir(), 'portcullis-certs-'));
    certs = makeTestCerts(certDir);
  });
  after(() => rmSync(certDir, { recursive: true, force: true }));

  it('refuses credentials, a database or authSource in the connection string, and other schemes, with clear messages', async () => {
    const cases: Array<[string, RegExp]> = [
      ['mongodb://alice:s3cr3t@db:27017/', /^connectionString: put the username and password in an account, not in the connection string$/],
      ['mongodb+srv://alice@cluster.example.com/', /put the username and password in an account/],
      [
        'mongodb://db:27017/sales',
        /^connectionString: set the authentication database in the auth database field, not in the connection string$/,
      ],
      ['mongodb://db:27017/?authSource=admin', /auth database field/],
      ['postgres://db:5432/', /must start with mongodb:\/\/ or mongodb\+srv:\/\//],
      ['mongodb://', /not a valid MongoDB connection string/],
    ];
    for (const [connectionString, message] of cases) {
      const result = await newResource({ name: 'bad', connectionString });
      assert.equal(result.status, 400, connectionString);
      assert.equal(result.body.error.code, 'validation_failed');
      assert.match(result.body.error.message, message);
      assert.doesNotMatch(result.body.error.message, /s3cr3t/);
    }
    for (const connectionString of [
      'mongodb://a:1,b:2/?replicaSet=rs0',
      'mongodb+srv://cluster.example.com/?retryWrites=true',
      'mongodb://db',
    ]) {
      const result = await newResource({ name: `ok-${responses.length}`, connectionString });
      assert.equal(result.status, 201, `${connectionString}: ${JSON.stringify(result.body)}`);
      assert.equal(result.body.connectionString, connectionString);
    }
  });

  it('validates the CA certificate, stores it encrypted, never returns it, and hands it to the gateway', async () => {
    const bad = [
      'not a certificate',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      `${certs.ca.certPem}\n${readFileSync(certs.ca.keyFile, 'utf8')}`,
      `${certs.ca.certPem}\n-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n`,
    ];
    for (const caCertificate of bad) {
      const result = await newResource({ name: 'with-ca', caCertificate });
      assert.equal(result.status, 400);
      assert.equal(result.body.error.code, 'validation_failed');
      assert.match(result.body.error.message, /^caCertificate: /);
      assert.doesNotMatch(result.body.error.message, /PRIVATE KEY/);
    }
    const bundle = `${certs.ca.certPem}\n${certs.selfSigned.certPem}`;
    const created = await newResource({ name: 'with-ca', caCertificate: bundle, tlsRejectUnauthorized: true });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const resource: ResourceDto = created.body;
    assert.equal(resource.hasCaCertificate, true);
    assert.equal(resource.tlsEnabled, true);
    assert.equal(resource.authDatabase, 'admin');
    assert.ok(!JSON.stringify(resource).includes('BEGIN CERTIFICATE'));
    const shown = await call('GET', `/resources/${resource.id}`, { token: w.memberToken });
    assert.ok(!JSON.stringify(shown.body).includes('BEGIN'));

    const account = await call('POST', `/resources/${resource.id}/accounts`, {
      token: w.adminToken,
      body: { name: 'ca-user', username: 'u', password: 'p' },
    });
    const granted: AccessGranted = (await call('POST', `/accounts/${account.body.id}/access`, { token: w.memberToken, body: accessBody() }))
      .body;
    const target = await server().cp.services.getSessionTarget(granted.session.id, w.gateway.gatewayId);
    assert.ok('target' in target);
    assert.ok(target.target.tls.caCertificate?.includes(certs.ca.certPem.trim().split('\n')[1]));
    const sqlite = readFileSync(join(server().dataDir, 'portcullis.db'));
    assert.equal(sqlite.includes(certs.ca.certPem.trim().split('\n')[1]), false, 'the CA is stored encrypted');

    const removed = await call('PATCH', `/resources/${resource.id}`, { token: w.adminToken, body: { caCertificate: null } });
    assert.equal(removed.status, 200);
    assert.equal(removed.body.hasCaCertificate, false);
  });

  it('keeps resource names unique per project and the gateway in the same project', async () => {
    const first = await newResource({ name: 'orders' });
    assert.equal(first.status, 201);
    const again = await newResource({ name: 'orders' });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'conflict');
    assert.match(again.body.error.message, /"orders" already exists in this project/);
    const renamed = await newResource({ name: 'orders-2' });
    const clash = await call('PATCH', `/resources/${renamed.body.id}`, { token: w.adminToken, body: { name: 'orders' } });
    assert.equal(clash.status, 409);

    // The same name in another project is fine; a gateway of another project is not.
    const s = server();
    const otherGateway = await enrollGateway(s, w.outsiderToken, w.outsiderProjectId, 'theirs');
    const elsewhere = await call('POST', '/resources', {
      token: w.outsiderToken,
      body: { projectId: w.outsiderProjectId, name: 'orders', gatewayId: otherGateway.gatewayId, connectionString: 'mongodb://x' },
    });
    assert.equal(elsewhere.status, 201);
    const foreignGateway = await newResource({ name: 'foreign', gatewayId: otherGateway.gatewayId });
    assert.equal(foreignGateway.status, 400);
    assert.match(foreignGateway.body.error.message, /^gatewayId: /);

    const busy = await call('DELETE', `/gateways/${w.gateway.gatewayId}`, { token: w.adminToken });
    assert.equal(busy.status, 409);
    assert.match(busy.body.error.message, /serves the resources .*orders/);
  });

  it('answers invalid input with validation_failed naming the field', async () => {
    const cases: Array<[string, string, unknown, RegExp]> = [
      [
        'POST',
        '/resources',
        { projectId: w.projectId, name: 'x', gatewayId: w.gateway.gatewayId },
        /^body\.connectionString: is required$/,
      ],
      [
        'POST',
        '/resources',
        { projectId: w.projectId, name: 'x', gatewayId: w.gateway.gatewayId, connectionString: 'mongodb://a', colour: 1 },
        /^body\.colour: is not a known field$/,
      ],
      [
        'POST',
        '/resources',
        { projectId: 'prj_nope', name: 'x', gatewayId: w.gateway.gatewayId, connectionString: 'mongodb://a' },
        /^body\.projectId: is not a valid id$/,
      ],
      [
        'POST',
        '/resources',
        { projectId: w.projectId, name: 'x'.repeat(101), gatewayId: w.gateway.gatewayId, connectionString: 'mongodb://a' },
        /^body\.name: /,
      ],
      [
        'POST',
        '/resources',
        { projectId: w.projectId, name: 'x', gatewayId: w.gateway.gatewayId, connectionString: 'mongodb://a', tlsEnabled: 'maybe' },
        /^body\.tlsEnabled: must be boolean$/,
      ],
      ['POST', `/resources/${w.resource.id}/accounts`, { name: 'a', username: 'u' }, /^body\.password: is required$/],
      [
        'POST',
        `/resources/${w.resource.id}/accounts`,
        { name: 'a', username: 'u', password: 'p', maxSessionDurationSeconds: 5 },
        /^body\.maxSessionDurationSeconds: must be >= 60$/,
      ],
      ['PATCH', `/accounts/${w.account.id}`, {}, /^body: must NOT have fewer than 1 properties$/],
      ['GET', '/resources/res_bad', undefined, /^params\.id: is not a valid id$/],
      ['GET', '/resources?limit=0', undefined, /^querystring\.limit: must be >= 1$/],
    ];
    for (const [method, path, body, message] of cases) {
      const result = await call(method, path, { token: w.adminToken, body });
      assert.equal(result.status, 400, `${method} ${path}: ${JSON.stringify(result.body)}`);
      assert.deepEqual(Object.keys(result.body), ['error']);
      assert.equal(result.body.error.code, 'validation_failed');
      assert.match(result.body.error.message, message);
    }
    const broken = await call('POST', '/resources', { token: w.adminToken, rawBody: '{"name": ' });
    assert.equal(broken.status, 400);
    assert.deepEqual(broken.body, { error: { code: 'bad_request', message: 'the request body is not valid JSON' } });
    const unknown = await call('GET', '/no/such/route', { token: w.adminToken });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
  });

  it('accounts: unique names per resource, defaults, password changes reach the gateway', async () => {
    const created = await call('POST', `/resources/${w.resource.id}/accounts`, {
      token: w.adminToken,
      body: { name: 'ops', username: 'ops_user', password: SECRET_ACCOUNT_PASSWORD },
    });
    assert.equal(created.status, 201);
    const account: AccountDto = created.body;
    assert.equal(account.mfaRequired, false);
    assert.equal(account.maxSessionDurationSeconds, 8 * 3600);
    assert.equal(account.description, '');
    assert.deepEqual(Object.keys(account).sort(), [
      'createdAt',
      'description',
      'id',
      'maxSessionDurationSeconds',
      'mfaRequired',
      'name',
      'policy',
      'resourceId',
      'updatedAt',
      'username',
    ]);
    assert.deepEqual(account.policy, { mode: 'read-write', databases: [], denied: [], reasonRequired: false, approvalRequired: false });
    const duplicate = await call('POST', `/resources/${w.resource.id}/accounts`, {
      token: w.adminToken,
      body: { name: 'ops', username: 'x', password: SECRET_ACCOUNT_PASSWORD },
    });
    assert.equal(duplicate.status, 409);
    assert.match(duplicate.body.error.message, /"ops" already exists on this resource/);

    const changed = await call('PATCH', `/accounts/${account.id}`, { token: w.adminToken, body: { password: CHANGED_ACCOUNT_PASSWORD } });
    assert.equal(changed.status, 200);
    const granted: AccessGranted = (await call('POST', `/accounts/${account.id}/access`, { token: w.memberToken, body: accessBody() }))
      .body;
    const target = await server().cp.services.getSessionTarget(granted.session.id, w.gateway.gatewayId);
    assert.ok('target' in target);
    assert.equal(target.target.password, CHANGED_ACCOUNT_PASSWORD);
    for (const path of [
      `/accounts/${account.id}`,
      `/resources/${w.resource.id}/accounts`,
      `/resources/${w.resource.id}/accounts?name=ops`,
    ]) {
      const shown = await call('GET', path, { token: w.memberToken });
      assert.equal(shown.status, 200);
    }
  });

  it('account policies: checked with the field named, stored, audited, sent to the gateway with the session', async () => {
    const create = (policy: unknown) =>
      call('POST', `/resources/${w.resource.id}/accounts`, {
        token: w.adminToken,
        body: { name: `policy-${Math.random().toString(36).slice(2, 8)}`, username: 'u', password: SECRET_ACCOUNT_PASSWORD, policy },
      });
    for (const [policy, message] of [
      [{ mode: 'read-mostly' }, /mode/],
      [{ databases: ['app.orders'] }, /databases/],
      [{ databases: ['a b'] }, /databases/],
      [{ denied: ['drop database'] }, /denied/],
      [{ denied: ['$'] }, /denied/],
      [{ reasonRequired: 'yes' }, /reasonRequired/],
      [{ surprise: true }, /surprise|additional/],
    ] as const) {
      const refused = await create(policy);
      assert.equal(refused.status, 400, `${JSON.stringify(policy)}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error.code, 'validation_failed');
      assert.match(refused.body.error.message, message);
    }
    const created = await create({
      mode: 'read-only',
      databases: ['app', 'logs_*'],
      denied: ['dropDatabase', '$where'],
      reasonRequired: true,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const account: AccountDto = created.body;
    assert.deepEqual(account.policy, {
      mode: 'read-only',
      databases: ['app', 'logs_*'],
      denied: ['dropDatabase', '$where'],
      reasonRequired: true,
      approvalRequired: false,
    });
    // A member sees it (it tells them what the account may do); only an admin changes it.
    assert.deepEqual((await call('GET', `/accounts/${account.id}`, { token: w.memberToken })).body.policy, account.policy);
    assert.equal((await call('PATCH', `/accounts/${account.id}`, { token: w.memberToken, body: { policy: {} } })).status, 403);
    const noReason = await call('POST', `/accounts/${account.id}/access`, { token: w.memberToken, body: accessBody() });
    assert.equal(noReason.status, 400);
    assert.equal(noReason.body.error.code, 'reason_required');
    const granted: AccessGranted = (
      await call('POST', `/accounts/${account.id}/access`, { token: w.memberToken, body: accessBody({ reason: ' INC-7 ' }) })
    ).body;
    assert.equal(granted.session.reason, 'INC-7');
    const target = await server().cp.services.getSessionTarget(granted.session.id, w.gateway.gatewayId);
    assert.ok('target' in target);
    assert.deepEqual(target.target.policy, account.policy);
    assert.equal(target.target.accountName, account.name);

    // PATCH replaces the whole policy; an empty one is the default again.
    const reset = await call('PATCH', `/accounts/${account.id}`, { token: w.adminToken, body: { policy: {} } });
    assert.deepEqual(reset.body.policy, { mode: 'read-write', databases: [], denied: [], reasonRequired: false, approvalRequired: false });
    const audit = await server()
      .cp.store.db.selectFrom('audit_events')
      .select(['action', 'details'])
      .where('target_id', '=', account.id)
      .execute();
    assert.deepEqual(audit.map((a) => [a.action, JSON.parse(a.details).policy?.mode]).sort(), [
      ['account.created', 'read-only'],
      ['account.updated', 'read-write'],
    ]);
  });

  it('never lets a password out: not in responses, not in the log, not in the SQLite file or its WAL', async () => {
    const s = server();
    // A user password goes in when a member is added, and at sign-in (right and wrong).
    const added = await call('POST', `/projects/${w.projectId}/members`, {
      token: w.adminToken,
      body: { email: 'secretive@example.com', role: 'member', password: SECRET_USER_PASSWORD },
    });
    assert.equal(added.status, 201);
    const login = await call('POST', '/auth/login', { body: { email: 'secretive@example.com', password: SECRET_USER_PASSWORD } });
    assert.equal(login.status, 200);
    await call('POST', '/auth/login', { body: { email: 'secretive@example.com', password: `${SECRET_USER_PASSWORD}-wrong` } });
    // Malformed and refused bodies that carry a password.
    await call('POST', '/auth/login', { rawBody: `{"email":"secretive@example.com","password":"${SECRET_USER_PASSWORD}"` });
    await call('POST', '/auth/login', { body: { email: 'secretive@example.com', password: SECRET_USER_PASSWORD, extra: true } });
    await call('POST', `/resources/${w.resource.id}/accounts`, {
      token: w.adminToken,
      body: { name: 'x', username: 'x', password: SECRET_ACCOUNT_PASSWORD, unknown: SECRET_ACCOUNT_PASSWORD },
    });
    await call('POST', '/resources', {
      token: w.adminToken,
      body: {
        projectId: w.projectId,
        name: 'leak',
        gatewayId: w.gateway.gatewayId,
        connectionString: `mongodb://u:${SECRET_ACCOUNT_PASSWORD}@h/`,
      },
    });

    const secrets = [SECRET_ACCOUNT_PASSWORD, CHANGED_ACCOUNT_PASSWORD, SECRET_USER_PASSWORD, login.body.token];
    const logText = s.logs.join('');
    assert.ok(logText.includes('incoming request'), 'the log was captured');
    for (const secret of secrets) {
      assert.ok(!responses.some((r) => r.includes(secret) && !r.includes('"token"')), 'a secret came back in a response');
      assert.ok(!logText.includes(secret), 'a secret is in the log');
    }
    const files = readdirSync(s.dataDir).filter((f) => f.startsWith('portcullis.db'));
    assert.ok(files.includes('portcullis.db'));
    for (const file of files) {
      const bytes = readFileSync(join(s.dataDir, file));
      for (const secret of secrets) assert.equal(bytes.includes(secret), false, `${secret.slice(0, 8)}... found in ${file}`);
    }
    const audit = await call('GET', `/projects/${w.projectId}/audit?limit=500`, { token: w.adminToken });
    for (const secret of secrets) assert.ok(!JSON.stringify(audit.body).includes(secret));
  });
});
