/**
 * Edit Account, Test Connection and the connection test step of Add/Edit Resource and Add Account, through the
 * registered commands with the VS Code mock and the in-memory API (the real gateway's answers are exercised in
 * test/e2e/extension-ui-terminals.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import type { ConnectionTestDto } from '../../protocol/api';
import { ApiError } from '../../proxy-core/api-client';
import { makeExtensionContext, mock, resetMock, settle, Uri } from '../test/vscode-mock';

const files = mkdtempSync(join(tmpdir(), 'portcullis-admin-test-'));
after(() => rmSync(files, { recursive: true, force: true }));

const WRONG: ConnectionTestDto = {
  ok: false,
  stage: 'authenticate',
  message:
    'Portcullis gateway could not authenticate to portcullis:orders-db as reader (SCRAM-SHA-256, auth database admin): Authentication failed. ' +
    "Check the account's stored password.",
  durationMs: 30,
};
const REACHED: ConnectionTestDto = {
  ok: true,
  stage: 'reach',
  message: 'Reached the database (primary).',
  serverRole: 'primary',
  durationMs: 8,
};

async function setUp() {
  resetMock();
  mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:1');
  const { PortcullisController } = await import('../portcullis-controller');
  const { FakeApi, fakeStartAccess, accountDto, resourceDto, meDto } = await import('../test/fixtures');
  const api = new FakeApi('http://127.0.0.1:1');
  api.me_ = meDto('admin');
  const context = makeExtensionContext();
  context.storedSecrets.set('portcullis.token:http://127.0.0.1:1', 'tok_secret');
  const controller = new PortcullisController(context as never, { startAccess: fakeStartAccess().start, createClient: () => api as never });
  await controller.activate();
  const { AccountTreeItem } = await import('../explorer/account-tree-item');
  const { ResourceTreeItem } = await import('../explorer/resource-tree-item');
  const account = new AccountTreeItem(accountDto(), resourceDto(), undefined, true);
  const resource = new ResourceTreeItem(resourceDto(), true);
  const run = (command: string, ...args: unknown[]) => mock.commands.get(`portcullis.${command}`)!(...args);
  const pick = (label: string) => mock.quickPickAnswers.push((items) => items.find((i) => i.label.startsWith(label)));
  return { api, account, resource, run, pick, controller };
}

const callsOf = (api: { calls: Array<{ method: string; args: unknown[] }> }, method: string) =>
  api.calls.filter((c) => c.method === method).map((c) => c.args);
const noSecretShown = (secret: string) =>
  assert.ok(
    mock.messages.every((m) => !m.text.includes(secret) && !JSON.stringify(m.options ?? {}).includes(secret)),
    'the password is in no message',
  );

describe('Edit Account', () => {
  beforeEach(() => resetMock());

  it('Password: asked in a masked box, tried by the gateway, then saved; the message says the sign-in was tested', async () => {
    const { api, account, run, pick } = await setUp();
    pick('Password');
    mock.inputAnswers.push('n3w-secret');
    await run('editAccount', account);
    assert.equal(mock.inputPrompts[0].password, true);
    assert.deepEqual(callsOf(api, 'testAccountConnection'), [['acc_1', { password: 'n3w-secret' }]]);
    assert.deepEqual(callsOf(api, 'updateAccount'), [['acc_1', { password: 'n3w-secret' }]]);
    const info = mock.messages.find((m) => m.severity === 'information');
    assert.equal(info?.text, 'Password of orders-db / reader saved; sign-in tested OK.');
    noSecretShown('n3w-secret');
  });

  it('a password the database refuses: the gateway’s message in a modal; Change Settings asks again, Save Anyway saves, Cancel does not', async () => {
    const { api, account, run, pick } = await setUp();
    api.connectionTest = (_method, args) =>
      (args[1] as { password: string }).password === 'right' ? { ...REACHED, stage: 'authenticate' } : WRONG;
    pick('Password');
    mock.inputAnswers.push('wrong', 'right');
    mock.messageAnswers.push('Change Settings');
    await run('editAccount', account);
    const modal = mock.messages.find((m) => m.severity === 'warning');
    assert.equal(modal?.text, 'The connection test of orders-db / reader failed.');
    assert.deepEqual(modal?.items, ['Save Anyway', 'Change Settings']);
    const options = modal?.options as { modal: boolean; detail: string };
    assert.equal(options.modal, true);
    assert.match(options.detail, /could not authenticate .* Check the account's stored password\.[\s\S]*signing in failed/);
    assert.match(String(mock.inputPrompts[1].prompt), /The last password did not work/);
    assert.deepEqual(callsOf(api, 'updateAccount'), [['acc_1', { password: 'right' }]]);

    pick('Password');
    mock.inputAnswers.push('still-wrong');
    mock.messageAnswers.push('Save Anyway');
    await run('editAccount', account);
    assert.deepEqual(callsOf(api, 'updateAccount')[1], ['acc_1', { password: 'still-wrong' }]);
    assert.equal(mock.messages.at(-1)?.text, 'Password of orders-db / reader saved; saved despite the failed test.');

    pick('Password');
    mock.inputAnswers.push('another');
    mock.messageAnswers.push(undefined);
    await run('editAccount', account);
    assert.equal(callsOf(api, 'updateAccount').length, 2, 'Cancel saves nothing');
    noSecretShown('wrong');
  });

  it('an offline gateway: the password is saved untested, and the message says so', async () => {
    const { api, run, pick } = await setUp();
    const { AccountTreeItem } = await import('../explorer/account-tree-item');
    const { accountDto, resourceDto } = await import('../test/fixtures');
    const offline = new AccountTreeItem(accountDto(), resourceDto({ gatewayOnline: false }), undefined, true);
    pick('Password');
    mock.inputAnswers.push('pw');
    await run('editAccount', offline);
    assert.deepEqual(callsOf(api, 'testAccountConnection'), []);
    assert.deepEqual(callsOf(api, 'updateAccount'), [['acc_1', { password: 'pw' }]]);
    assert.equal(mock.messages.at(-1)?.text, 'Password of orders-db / reader saved; not tested (gateway offline).');
  });

  it('description, MFA required and maximum duration, each from its current value', async () => {
    const { api, account, run, pick } = await setUp();
    pick('Description');
    mock.inputAnswers.push((options) => {
      assert.equal(options.value, '');
      return ' for the reporting team ';
    });
    await run('editAccount', account);
    pick('MFA required');
    pick('Require a verification code');
    await run('editAccount', account);
    pick('Maximum duration');
    mock.inputAnswers.push((options) => {
      assert.equal(options.value, '60');
      return '90';
    });
    await run('editAccount', account);
    assert.deepEqual(callsOf(api, 'updateAccount'), [
      ['acc_1', { description: 'for the reporting team' }],
      ['acc_1', { mfaRequired: true }],
      ['acc_1', { maxSessionDurationSeconds: 5400 }],
    ]);
    assert.deepEqual(
      mock.messages.map((m) => m.text),
      [
        'Account orders-db / reader: description saved.',
        'Account orders-db / reader: MFA now required.',
        'Account orders-db / reader: sessions now last at most 90 min.',
      ],
    );
    assert.deepEqual(callsOf(api, 'testAccountConnection'), [], 'nothing to test');
  });
});

describe('Test Connection', () => {
  beforeEach(() => resetMock());

  it('on an account: the gateway signs in with the stored password; success is an information message', async () => {
    const { api, account, run } = await setUp();
    await run('testConnection', account);
    assert.deepEqual(callsOf(api, 'testAccountConnection'), [['acc_1', {}]]);
    assert.equal(mock.messages[0].text, 'orders-db / reader: connection OK (SCRAM-SHA-256, 12 ms).');
    assert.equal(mock.progress[0].options.title, 'Portcullis: testing the connection to orders-db / reader…');
  });

  it('a failure shows the gateway’s message in a modal, with Edit Account', async () => {
    const { api, account, run } = await setUp();
    api.connectionTest = WRONG;
    mock.messageAnswers.push('Edit Account');
    mock.quickPickAnswers.push(() => undefined);
    await run('testConnection', account);
    const modal = mock.messages[0];
    assert.equal(modal.severity, 'error');
    assert.equal(modal.text, 'Test Connection of orders-db / reader failed.');
    assert.match((modal.options as { detail: string }).detail, /Check the account's stored password/);
    assert.deepEqual(modal.items, ['Edit Account']);
    assert.equal(mock.quickPickAnswers.length, 0, 'Edit Account opened');
  });

  it('a gateway that is not connected: says the test could not run, and why', async () => {
    const { api, resource, run } = await setUp();
    api.connectionTest = new ApiError(503, 'gateway_offline', 'the gateway dc1-gateway is not connected to this control plane');
    await run('testConnection', resource);
    assert.deepEqual(callsOf(api, 'testResourceConnection'), [['res_1', {}]]);
    assert.equal(mock.messages[0].text, 'The connection to resource orders-db could not be tested.');
    assert.match((mock.messages[0].options as { detail: string }).detail, /not connected to this control plane/);
  });
});

describe('the connection test before saving a resource or an account', () => {
  beforeEach(() => resetMock());

  async function addResourceAnswers(pickTls: string) {
    mock.inputAnswers.push('billing');
    mock.quickPickAnswers.push((items) => items[0]);
    mock.inputAnswers.push('mongodb://db.internal:27017/', 'admin');
    mock.quickPickAnswers.push((items) => items.find((i) => i.label.startsWith(pickTls)));
  }

  it('Add Resource: a CA file picked in a dialog is tested and saved as the resource’s CA', async () => {
    const { api, run } = await setUp();
    api.gateways = [{ id: 'gw_1', name: 'dc1', online: true } as never];
    api.connectionTest = REACHED;
    const pem = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
    writeFileSync(join(files, 'ca.pem'), pem);
    await addResourceAnswers('TLS, verify against a CA file');
    mock.openDialogAnswers.push([Uri.file(join(files, 'ca.pem'))]);
    await run('addResource');
    const [tested] = callsOf(api, 'testNewResourceConnection')[0] as [Record<string, unknown>];
    assert.deepEqual(tested, {
      projectId: 'prj_1',
      name: 'billing',
      gatewayId: 'gw_1',
      connectionString: 'mongodb://db.internal:27017/',
      authDatabase: 'admin',
      tlsEnabled: true,
      tlsRejectUnauthorized: true,
      caCertificate: pem,
    });
    const [, created] = callsOf(api, 'createResource')[0] as [string, Record<string, unknown>];
    assert.equal(created.caCertificate, pem);
    const done = mock.messages.at(-1);
    assert.equal(done?.text, 'Resource billing added; connection tested OK. Next, add the accounts users connect as.');
    assert.deepEqual(done?.items, ['Add Account']);
  });

  it('Add Resource: a file that is not a PEM certificate is refused with what to choose instead', async () => {
    const { api, run } = await setUp();
    api.gateways = [{ id: 'gw_1', name: 'dc1', online: true } as never];
    writeFileSync(join(files, 'notes.txt'), 'hello');
    await addResourceAnswers('TLS, verify against a CA file');
    mock.openDialogAnswers.push([Uri.file(join(files, 'notes.txt'))]);
    await run('addResource');
    assert.match(mock.messages[0].text, /notes\.txt is not a PEM certificate .*choose the CA's certificate file in PEM format/);
    assert.deepEqual(callsOf(api, 'createResource'), []);
  });

  it('Add Resource: Change Settings after a failed test asks again from the connection string, with the answers filled in', async () => {
    const { api, run } = await setUp();
    api.gateways = [{ id: 'gw_1', name: 'dc1', online: true } as never];
    api.connectionTest = (_m, args) =>
      (args[0] as { connectionString: string }).connectionString.includes(':27018')
        ? REACHED
        : { ...WRONG, stage: 'reach', message: 'connection refused' };
    await addResourceAnswers('No TLS');
    mock.messageAnswers.push('Change Settings');
    mock.inputAnswers.push((options) => {
      assert.equal(options.value, 'mongodb://db.internal:27017/');
      return 'mongodb://db.internal:27018/';
    }, 'admin');
    mock.quickPickAnswers.push((items) => items[0]);
    await run('addResource');
    assert.equal(callsOf(api, 'testNewResourceConnection').length, 2);
    const [, created] = callsOf(api, 'createResource')[0] as [string, Record<string, unknown>];
    assert.equal(created.connectionString, 'mongodb://db.internal:27018/');
  });

  it('Add Account: the user name and password are tried before the account is saved', async () => {
    const { api, resource, run } = await setUp();
    mock.inputAnswers.push('writer', 'app', 'pa55');
    mock.quickPickAnswers.push((items) => items[0]);
    mock.inputAnswers.push('');
    await run('addAccount', resource);
    assert.deepEqual(callsOf(api, 'testResourceConnection'), [['res_1', { username: 'app', password: 'pa55' }]]);
    assert.equal(callsOf(api, 'createAccount').length, 1);
    assert.equal(mock.messages.at(-1)?.text, 'Account writer added; sign-in tested OK.');
    noSecretShown('pa55');
  });

  it('Edit Resource with a stored CA: saved first, then tested; a failure offers to put the old settings back', async () => {
    const { api, run } = await setUp();
    const { ResourceTreeItem } = await import('../explorer/resource-tree-item');
    const { resourceDto } = await import('../test/fixtures');
    const withCa = new ResourceTreeItem(resourceDto({ hasCaCertificate: true, tlsEnabled: true }), true);
    api.connectionTest = {
      ...WRONG,
      stage: 'reach',
      message: 'Portcullis gateway could not reach portcullis:orders-db: connection refused',
    };
    mock.quickPickAnswers.push((items) => items.find((i) => i.label === 'Connection string'));
    mock.inputAnswers.push('mongodb://db2.internal:27017/');
    mock.messageAnswers.push('Put the Old Settings Back');
    await run('editResource', withCa);
    await settle();
    assert.deepEqual(callsOf(api, 'testNewResourceConnection'), [], 'the stored CA cannot be sent back, so no test before saving');
    assert.deepEqual(callsOf(api, 'updateResource'), [
      ['res_1', { connectionString: 'mongodb://db2.internal:27017/' }],
      ['res_1', { connectionString: 'mongodb://db.internal:27017/' }],
    ]);
  });

  it('Edit Resource without a stored CA: tested before saving; Cancel saves nothing', async () => {
    const { api, resource, run } = await setUp();
    api.connectionTest = { ...WRONG, stage: 'reach', message: 'connection refused' };
    mock.quickPickAnswers.push((items) => items.find((i) => i.label === 'Authentication database'));
    mock.inputAnswers.push('users');
    mock.messageAnswers.push(undefined);
    await run('editResource', resource);
    const [[tested]] = callsOf(api, 'testNewResourceConnection') as [[Record<string, unknown>]];
    assert.equal(tested.authDatabase, 'users');
    assert.deepEqual(callsOf(api, 'updateResource'), []);
  });
});
