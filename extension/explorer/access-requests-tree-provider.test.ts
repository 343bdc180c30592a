import assert from 'node:assert/strict';
import { describe, it, mock as nodeMock } from 'node:test';
import type { AccessRequestDto } from '../../protocol/api';
import { makeExtensionContext, mock, resetMock, settle } from '../test/vscode-mock';

const VIEW = 'portcullis.accessRequests';
const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

/** Signed in as ada (usr_1), with the given requests at the server. */
async function signedIn(role: 'admin' | 'member', requests: (f: typeof import('../test/fixtures')) => AccessRequestDto[] = () => []) {
  resetMock();
  mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:1');
  const { PortcullisController } = await import('../portcullis-controller');
  const fixtures = await import('../test/fixtures');
  const api = new fixtures.FakeApi('http://127.0.0.1:1');
  api.me_ = fixtures.meDto(role);
  api.accessRequests = requests(fixtures);
  const context = makeExtensionContext();
  context.storedSecrets.set('portcullis.token:http://127.0.0.1:1', 'tok_secret');
  const controller = new PortcullisController(context as never, {
    startAccess: fixtures.fakeStartAccess().start,
    createClient: () => api as never,
  });
  await controller.activate();
  await settle();
  const view = mock.treeViews.get(VIEW)!;
  const items = () => controller.accessRequestsTree.getChildren();
  return { controller, api, fixtures, view, items };
}

const row = (i: { label?: unknown; description?: unknown; contextValue?: string }) => [i.label, i.description, i.contextValue];

describe('Access Requests view', () => {
  it('shows admins the requests waiting for their decision first (Approve, Deny), then their own (Cancel), with a badge', async () => {
    const { view, items } = await signedIn('admin', (f) => [
      f.accessRequestDto({ id: 'req_bob', createdAt: minutesFromNow(-2) }),
      f.accessRequestDto({ id: 'req_mine', requesterUserId: 'usr_1', requesterEmail: 'ada@example.com', reason: 'mine' }),
      f.accessRequestDto({
        id: 'req_old',
        requesterUserId: 'usr_1',
        state: 'denied',
        decidedByEmail: 'carol@example.com',
        note: 'use staging',
        createdAt: minutesFromNow(-90),
      }),
      f.accessRequestDto({
        id: 'req_carol',
        requesterUserId: 'usr_3',
        requesterEmail: 'carol@example.com',
        accountName: 'writer',
        durationSeconds: 5400,
        createdAt: minutesFromNow(-30),
      }),
      // Decided already: not in the inbox, and not the admin's own.
      f.accessRequestDto({ id: 'req_done', state: 'approved', requesterUserId: 'usr_4' }),
    ]);
    const shown = await items();
    assert.deepEqual(shown.map(row), [
      ['orders-db / reader', 'bob@example.com · INC-42: stuck orders · 30m · 2m ago', 'accessRequest.pending.decide'],
      ['orders-db / writer', 'carol@example.com · INC-42: stuck orders · 1h 30m · 30m ago', 'accessRequest.pending.decide'],
      ['orders-db / reader', 'waiting for approval · 2m ago', 'accessRequest.pending.own'],
      ['orders-db / reader', 'denied by carol@example.com · 1h 30m ago', 'accessRequest.denied.own'],
    ]);
    const tooltip = String(shown[0].tooltip);
    assert.match(
      tooltip,
      /^orders-db \/ reader \(req_bob\)\nRequested by bob@example\.com 2m ago, for 30m\nReason: INC-42: stuck orders\n/,
    );
    assert.match(tooltip, /Waiting for an admin; expires unanswered in 5[78]m/);
    assert.match(String(shown[3].tooltip), /Denied by carol@example\.com: use staging/);
    assert.deepEqual(view.badge, { value: 2, tooltip: '2 access requests wait for your decision' });
  });

  it('shows members their own requests only, Cancel on pending ones, and no badge', async () => {
    const { view, items } = await signedIn('member', (f) => [
      f.accessRequestDto({ id: 'req_other' }),
      f.accessRequestDto({ id: 'req_wait', requesterUserId: 'usr_1', createdAt: minutesFromNow(-1) }),
      f.accessRequestDto({
        id: 'req_grant',
        requesterUserId: 'usr_1',
        state: 'approved',
        decidedByEmail: 'carol@example.com',
        grantExpiresAt: minutesFromNow(25.5),
        sessions: 1,
      }),
    ]);
    const shown = await items();
    assert.deepEqual(shown.map(row), [
      ['orders-db / reader', 'waiting for approval · 1m ago', 'accessRequest.pending.own'],
      ['orders-db / reader', 'approved · grant ends in 25m · 2m ago', 'accessRequest.approved.own'],
    ]);
    assert.match(String(shown[1].tooltip), /Approved by carol@example\.com; sessions may start until .* \(in 25m\); 1 session so far/);
    assert.equal(view.badge, undefined);
  });

  it('says so when nothing waits, and is empty when signed out so the Sign In welcome shows', async () => {
    const { controller, view, items } = await signedIn('admin');
    const [notice] = await items();
    assert.equal(notice.label, 'No access requests waiting.');
    assert.equal(notice.contextValue, 'notice');
    assert.equal(view.badge, undefined);

    await mock.commands.get('portcullis.signOut')!();
    await settle();
    assert.deepEqual(await controller.accessRequestsTree.getChildren(), []);
  });

  it('shows a failure to load as a line that retries', async () => {
    const { api, controller, items } = await signedIn('admin');
    api.failWith = new Error('could not reach the Portcullis server at http://127.0.0.1:1 (ECONNREFUSED)');
    controller.accessRequestsTree.refresh();
    await settle();
    const [message] = await items();
    assert.match(String(message.label), /^Could not load access requests: could not reach .*ECONNREFUSED/);
    assert.equal(message.command?.command, 'portcullis.refresh');
  });

  it('escapes what users typed in labels, descriptions and tooltips', async () => {
    const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
    const { items } = await signedIn('admin', (f) => [
      f.accessRequestDto({ requesterEmail: 'eve\u202e@example.com', reason: 'fix\x1b[2J it', resourceName: 'db\r\n', note: null }),
    ]);
    const [item] = await items();
    for (const text of [item.label, item.description, item.tooltip].map(String)) assert.doesNotMatch(text.replaceAll('\n', ''), RAW_UNSAFE);
    assert.equal(item.description?.toString().startsWith('eve\\u202e@example.com · fix\\x1b[2J it'), true);
  });
});

describe('deciding on access requests', () => {
  const bobsRequest = (f: typeof import('../test/fixtures')) => [f.accessRequestDto({ id: 'req_bob' })];

  it('Approve asks for an optional note, approves, and reloads the view (the badge goes); Escape approves nothing', async () => {
    const { api, view, items } = await signedIn('admin', bobsRequest);
    const [item] = await items();
    mock.inputAnswers.push(undefined);
    await mock.commands.get('portcullis.approveAccessRequest')!(item);
    assert.ok(!api.calls.some((c) => c.method === 'approveAccessRequest'));

    mock.inputAnswers.push('');
    await mock.commands.get('portcullis.approveAccessRequest')!(item);
    assert.match(String(mock.inputPrompts[1].title), /^Approve bob@example\.com's access to orders-db \/ reader$/);
    assert.match(String(mock.inputPrompts[1].prompt), /Reason given: INC-42: stuck orders\..*approve for 30m/);
    assert.deepEqual(api.calls.find((c) => c.method === 'approveAccessRequest')?.args, ['req_bob', {}]);
    assert.ok(
      mock.messages.some(
        (m) => m.severity === 'information' && /^Approved bob@example\.com's access to orders-db \/ reader until /.test(m.text),
      ),
    );
    await settle();
    assert.equal(view.badge, undefined);
    assert.deepEqual(
      (await items()).map((i) => i.label),
      ['No access requests waiting.'],
    );
  });

  it('Deny sends the note; Cancel withdraws one’s own request without asking anything', async () => {
    const { api, items } = await signedIn('admin', (f) => [
      f.accessRequestDto({ id: 'req_bob' }),
      f.accessRequestDto({ id: 'req_mine', requesterUserId: 'usr_1', requesterEmail: 'ada@example.com' }),
    ]);
    const [bobs, mine] = await items();
    mock.inputAnswers.push('  use the staging copy ');
    await mock.commands.get('portcullis.denyAccessRequest')!(bobs);
    assert.deepEqual(api.calls.find((c) => c.method === 'denyAccessRequest')?.args, ['req_bob', { note: 'use the staging copy' }]);
    assert.equal(api.accessRequests[0].state, 'denied');

    await mock.commands.get('portcullis.cancelAccessRequest')!(mine);
    assert.deepEqual(api.calls.find((c) => c.method === 'cancelAccessRequest')?.args, ['req_mine']);
    assert.equal(mock.inputPrompts.length, 1);
    assert.ok(mock.messages.some((m) => /Your access request for orders-db \/ reader is cancelled\./.test(m.text)));
    await settle();
    assert.deepEqual(
      (await items()).map((i) => i.contextValue),
      ['accessRequest.cancelled.own'],
    );
  });

  it('shows the server’s refusal with its message (a request decided meanwhile, self-approval), and reloads', async () => {
    const { api, items } = await signedIn('admin', (f) => [
      f.accessRequestDto({ id: 'req_bob' }),
      f.accessRequestDto({ id: 'req_mine', requesterUserId: 'usr_1' }),
    ]);
    const [bobs, mine] = await items();
    api.decide('req_bob', { state: 'approved', decidedByEmail: 'carol@example.com' });
    mock.inputAnswers.push('');
    await mock.commands.get('portcullis.approveAccessRequest')!(bobs);
    const errors = () => mock.messages.filter((m) => m.severity === 'error').map((m) => m.text);
    assert.deepEqual(errors(), [
      'Portcullis: could not approve the access request for orders-db / reader (req_bob): the access request req_bob is already approved',
    ]);
    await settle();
    assert.deepEqual(
      (await items()).map((i) => i.id),
      ['accessRequest:req_mine'],
      'the decided request left the inbox',
    );

    // The server has the last word: an approval of one's own request, however it was sent, is refused.
    const { AccessRequestTreeItem } = await import('./access-request-tree-item');
    mock.inputAnswers.push('');
    await mock.commands.get('portcullis.approveAccessRequest')!(
      new AccessRequestTreeItem((mine as { request: AccessRequestDto }).request, 'decide'),
    );
    assert.match(errors()[1], /could not approve .*: you made this request: another admin of the project must approve or deny it$/);
    // And the menus never offer it: own requests carry Cancel only.
    assert.equal(mine.contextValue, 'accessRequest.pending.own');
    await mock.commands.get('portcullis.approveAccessRequest')!(mine);
    assert.equal(errors()[2], 'Portcullis: only an admin of the project other than the requester can approve or deny this request');
  });
});

describe('Access Requests refresh', () => {
  it('reloads every 15 s while visible, every minute while hidden, and stops when signed out', async () => {
    nodeMock.timers.enable({ apis: ['setInterval'] });
    try {
      const { api, view, controller } = await signedIn('admin', (f) => [f.accessRequestDto({ id: 'req_bob' })]);
      const loads = () => api.calls.filter((c) => c.method === 'listAccessRequests').length;
      let before = loads();
      nodeMock.timers.tick(15_000);
      await settle();
      assert.equal(loads(), before + 2, 'one reload: pending and own');
      assert.equal(view.badge?.value, 1);

      // A request arriving while the view is hidden still shows on the badge, within a minute.
      controller.accessRequestsTree.setVisible(false);
      api.accessRequests.push((await import('../test/fixtures')).accessRequestDto({ id: 'req_new', requesterUserId: 'usr_3' }));
      before = loads();
      nodeMock.timers.tick(15_000);
      await settle();
      assert.equal(loads(), before);
      nodeMock.timers.tick(45_000);
      await settle();
      assert.equal(loads(), before + 2);
      assert.equal(view.badge?.value, 2);

      await mock.commands.get('portcullis.signOut')!();
      await settle();
      assert.equal(view.badge, undefined);
      before = loads();
      nodeMock.timers.tick(120_000);
      await settle();
      assert.equal(loads(), before);
    } finally {
      nodeMock.timers.reset();
    }
  });
});
