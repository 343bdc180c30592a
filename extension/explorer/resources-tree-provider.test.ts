import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeExtensionContext, mock, resetMock } from '../test/vscode-mock';

async function signedIn(role: 'admin' | 'member', projects = 1) {
  resetMock();
  mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:1');
  const { PortcullisController } = await import('../portcullis-controller');
  const fixtures = await import('../test/fixtures');
  const api = new fixtures.FakeApi('http://127.0.0.1:1');
  api.me_ = fixtures.meDto(role, projects);
  const context = makeExtensionContext();
  context.storedSecrets.set('portcullis.token:http://127.0.0.1:1', 'tok_secret');
  const access = fixtures.fakeStartAccess();
  const controller = new PortcullisController(context as never, { startAccess: access.start, createClient: () => api as never });
  await controller.activate();
  return { controller, api, fixtures, access };
}

describe('Resources view', () => {
  it('is empty when signed out, so the Sign In welcome shows', async () => {
    resetMock();
    const { PortcullisController } = await import('../portcullis-controller');
    const { fakeStartAccess } = await import('../test/fixtures');
    const controller = new PortcullisController(makeExtensionContext() as never, { startAccess: fakeStartAccess().start });
    await controller.activate();
    assert.deepEqual(await controller.resourcesTree.getChildren(), []);
    assert.equal(mock.context.get('portcullis.signedIn'), false);
  });

  it('lists resources with an offline gateway marked, and accounts with MFA and the running session marked', async () => {
    const { controller, api, fixtures } = await signedIn('member');
    api.resources = [
      fixtures.resourceDto({ id: 'res_b', name: 'billing', gatewayOnline: false, gatewayName: 'dc2' }),
      fixtures.resourceDto({ id: 'res_a', name: 'analytics' }),
    ];
    api.accounts = [
      fixtures.accountDto({ id: 'acc_r', resourceId: 'res_b', name: 'reader' }),
      fixtures.accountDto({ id: 'acc_w', resourceId: 'res_b', name: 'writer', mfaRequired: true }),
    ];
    const top = await controller.resourcesTree.getChildren();
    assert.deepEqual(
      top.map((i) => [i.label, i.description, i.contextValue]),
      [
        ['analytics', 'dc1-gateway', 'resource'],
        ['billing', 'gateway dc2 offline', 'resource'],
      ],
    );
    await mock.commands.get('portcullis.access')!(
      new (await import('./account-tree-item')).AccountTreeItem(api.accounts[0], api.resources[0], undefined, false),
    );
    const accounts = await controller.resourcesTree.getChildren(top[1]);
    assert.deepEqual(
      accounts.map((i) => [i.label, i.description, i.contextValue]),
      [
        ['reader', 'session active', 'account.active'],
        ['writer', 'MFA required', 'account'],
      ],
    );
  });

  it('marks accounts that require an admin’s approval, in the description and the tooltip', async () => {
    const { controller, api, fixtures } = await signedIn('member');
    const policy = { mode: 'read-write' as const, databases: [], denied: [], reasonRequired: false, approvalRequired: true };
    api.accounts = [fixtures.accountDto({ name: 'prod-writer', mfaRequired: true, policy })];
    const [resource] = await controller.resourcesTree.getChildren();
    const [account] = await controller.resourcesTree.getChildren(resource);
    assert.equal(account.description, 'MFA required · approval required');
    const tooltip = (account.tooltip as { value: string }).value;
    assert.match(tooltip, /Approval required: Access asks for a reason, sends it to the project's admins as a request/);
    assert.doesNotMatch(tooltip, /A reason is asked for at Access/, 'approval implies the reason; said once');
  });

  it('marks items for admins, sets portcullis.isAdmin, and groups by project when there are several', async () => {
    const { controller, api, fixtures } = await signedIn('admin', 2);
    assert.equal(mock.context.get('portcullis.isAdmin'), true);
    api.resources = [fixtures.resourceDto({ projectId: 'prj_2' })];
    const top = await controller.resourcesTree.getChildren();
    assert.deepEqual(
      top.map((i) => [i.label, i.contextValue]),
      [
        ['project 1', 'project.admin'],
        ['project 2', 'project.admin'],
      ],
    );
    assert.deepEqual(await controller.resourcesTree.getChildren(top[0]), []);
    const [resource] = await controller.resourcesTree.getChildren(top[1]);
    assert.equal(resource.contextValue, 'resource.admin');
    const [account] = await controller.resourcesTree.getChildren(resource);
    assert.equal(account.contextValue, 'account.admin');
  });

  it('shows a failure to load as a line that retries, not as an empty tree', async () => {
    const { controller, api } = await signedIn('member');
    api.failWith = new Error('could not reach the Portcullis server at http://127.0.0.1:1 (ECONNREFUSED)');
    const [message] = await controller.resourcesTree.getChildren();
    assert.match(String(message.label), /Could not load: could not reach .*ECONNREFUSED/);
    assert.equal(message.command?.command, 'portcullis.refresh');
  });

  it('a token the server no longer accepts signs the user out (and the welcome shows)', async () => {
    const { controller, api } = await signedIn('member');
    const { ApiError } = await import('../../proxy-core/api-client');
    api.failWith = new ApiError(401, 'unauthenticated', 'token revoked');
    assert.deepEqual(await controller.resourcesTree.getChildren(), []);
    assert.equal(mock.context.get('portcullis.signedIn'), false);
  });
});

describe('Sessions view', () => {
  it('lists active sessions first, then recent ones with state and reason; admins see other users’ email and Terminate', async () => {
    const { controller, api, fixtures } = await signedIn('admin');
    api.sessions = [
      fixtures.sessionDto({ id: 'ses_old', state: 'ended', endReason: 'stopped', durationSeconds: 125, createdAt: '2026-01-01T08:00:00Z' }),
      fixtures.sessionDto({
        id: 'ses_new',
        state: 'terminated',
        endReason: 'terminated',
        durationSeconds: 5,
        createdAt: '2026-01-01T09:00:00Z',
      }),
      fixtures.sessionDto({
        id: 'ses_live',
        userId: 'usr_2',
        userEmail: 'bob@example.com',
        createdAt: '2026-01-01T07:00:00Z',
        startedAt: new Date(Date.now() - 65_000).toISOString(),
        expiresAt: new Date(Date.now() + 45 * 60_000 + 10_000).toISOString(),
      }),
    ];
    const items = await controller.sessionsTree.getChildren();
    assert.deepEqual(
      items.map((i) => i.id),
      ['session:ses_live', 'session:ses_new', 'session:ses_old'],
    );
    assert.match(String(items[0].description), /^active · 1m · 45m left · bob@example\.com$/);
    assert.match((items[0].tooltip as { value: string }).value, /\n\nExpires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(in 45m\)\n\n/);
    assert.equal(items[0].contextValue, 'session.active.admin');
    assert.equal(items[1].description, 'terminated · 5s', 'the state once, not "terminated (terminated)"');
    assert.equal(items[2].description, 'ended (stopped) · 2m 05s');
    assert.equal(items[2].contextValue, 'session.ended');
    assert.equal(items[2].command?.command, 'portcullis.openSessionLog');
  });

  it('opens a session’s log as a read-only document, one entry per command with its text under it', async () => {
    const { controller, api, fixtures } = await signedIn('member');
    api.sessions = [fixtures.sessionDto({ state: 'ended', endReason: 'stopped', endedAt: '2026-01-01T10:05:00.000Z' })];
    api.logs = [
      {
        kind: 'command',
        sessionId: 'ses_1',
        seq: 1,
        time: '2026-01-01T10:00:01.000Z',
        connectionId: 'c1',
        database: 'shop',
        command: 'find',
        collection: 'orders',
        input: '{"find":"orders"}',
        outcome: 'ok',
        documents: 3,
        durationMs: 4,
      },
    ];
    const [item] = await controller.sessionsTree.getChildren();
    await mock.commands.get('portcullis.openSessionLog')!(item);
    assert.equal(mock.documents.length, 1);
    const { uri, text } = mock.documents[0];
    assert.equal(uri.scheme, 'portcullis-log');
    assert.match(text, /^ {3}\d\d:\d\d:01 {2}shop\.orders {2}find: ok, 3 documents, 4 ms\n {5}\{"find":"orders"\}$/m);
  });
});

describe('names other users chose', () => {
  // Line feeds excepted: tooltips are Markdown paragraphs of our own.
  const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
  const shown = (item: { label?: unknown; description?: unknown; tooltip?: unknown }) =>
    [item.label, item.description, (item.tooltip as { value?: string } | undefined)?.value ?? item.tooltip].map(String).join('\n---\n');

  it('are escaped in tree labels, descriptions and tooltips, and in the error line', async () => {
    const { controller, api, fixtures } = await signedIn('admin');
    api.resources = [
      fixtures.resourceDto({ name: 'orders\u202egpj.exe', gatewayName: 'gw\x1b[2J', authDatabase: 'admin\u2066', gatewayOnline: false }),
    ];
    api.accounts = [fixtures.accountDto({ name: 'reader\r\nwriter', description: 'ops\x1b[31m', username: 'app\u009b' })];
    api.sessions = [
      fixtures.sessionDto({
        userId: 'usr_2',
        userEmail: 'eve\x1b]0;x\x07@example.com',
        resourceName: 'orders\u2028db',
        accountName: 'r\x7f',
      }),
    ];
    const [resource] = await controller.resourcesTree.getChildren();
    const [account] = await controller.resourcesTree.getChildren(resource);
    const [session] = await controller.sessionsTree.getChildren();
    for (const item of [resource, account, session]) assert.doesNotMatch(shown(item), RAW_UNSAFE, shown(item));
    assert.equal(resource.label, 'orders\\u202egpj.exe');
    assert.equal(resource.description, 'gateway gw\\x1b[2J offline');
    assert.equal(account.label, 'reader\\r\\nwriter');
    assert.equal(account.description, 'ops\\x1b[31m');
    assert.match(shown(account), /Database user: app\\u009b/);
    assert.equal(session.label, 'orders\\u2028db / r\\x7f');
    assert.match(String(session.description), /· eve\\x1b\]0;x\\x07@example\.com$/);

    api.failWith = new Error('no resource "\x1b[2J\u202e"');
    controller.resourcesTree.refresh();
    const [message] = await controller.resourcesTree.getChildren();
    assert.equal(message.label, 'Could not load: no resource "\\x1b[2J\\u202e"');
  });
});
