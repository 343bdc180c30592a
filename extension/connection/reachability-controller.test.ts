import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it, mock as nodeMock } from 'node:test';
import { makeExtensionContext, mock, resetMock, settle } from '../test/vscode-mock';

const bin = mkdtempSync(join(tmpdir(), 'portcullis-ext-bin-'));
const mongosh = join(bin, 'mongosh');
writeFileSync(mongosh, '#!/bin/sh\nexit 0\n');
chmodSync(mongosh, 0o755);
after(() => rmSync(bin, { recursive: true, force: true }));

const SERVER = 'http://127.0.0.1:1';

async function signedIn(role: 'admin' | 'member' = 'member') {
  resetMock();
  mock.configuration.set('portcullis.serverUrl', SERVER);
  mock.configuration.set('portcullis.mongoshPath', mongosh);
  const { PortcullisController } = await import('../portcullis-controller');
  const fixtures = await import('../test/fixtures');
  const { ApiError } = await import('../../proxy-core/api-client');
  const api = new fixtures.FakeApi(SERVER);
  api.me_ = fixtures.meDto(role);
  const context = makeExtensionContext();
  context.storedSecrets.set(`portcullis.token:${SERVER}`, 'tok_secret');
  const access = fixtures.fakeStartAccess();
  const controller = new PortcullisController(context as never, { startAccess: access.start, createClient: () => api as never });
  await controller.activate();
  const { AccountTreeItem } = await import('../explorer/account-tree-item');
  const startSession = async () => {
    await mock.commands.get('portcullis.access')!(new AccountTreeItem(fixtures.accountDto(), fixtures.resourceDto(), undefined, false));
    const { handle } = access.started.at(-1)!;
    // The server's record of it, as the Sessions view lists it.
    api.sessions.push({ ...handle.session, expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    return handle;
  };
  const offline = () =>
    new ApiError(
      0,
      'network_error',
      `could not reach the Portcullis server at ${SERVER} (ECONNREFUSED); check the address and that the server is running`,
    );
  const statusBar = () => mock.statusBarItems[0];
  const view = (id: string) => mock.treeViews.get(id)!;
  return { controller, api, access, fixtures, startSession, offline, statusBar, view };
}

/** Lets the fake clock run `ms`, with the promise chains each timer starts. */
async function elapse(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 500) {
    nodeMock.timers.tick(500);
    await settle();
  }
}

describe('control-plane outage', () => {
  beforeEach(() => nodeMock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => nodeMock.timers.reset());

  it('shows who is signed in where: the Resources view’s title and the status bar’s tooltip', async () => {
    const { startSession, statusBar, view } = await signedIn();
    assert.equal(view('portcullis.resources').description, 'ada@example.com on 127.0.0.1:1');
    await startSession();
    const tooltip = String(statusBar().tooltip);
    assert.match(tooltip, /^Signed in as ada@example\.com on 127\.0\.0\.1:1\n/);
    assert.match(
      tooltip,
      /\norders-db \/ reader: mongodb:\/\/127\.0\.0\.1:27999\/ · expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \((in \d|passed)/,
    );
  });

  it('says "reconnecting…" in the status bar and the views within seconds, keeps the trees as they were, and recovers', async () => {
    const { controller, api, startSession, offline, statusBar, view, fixtures } = await signedIn();
    api.resources = [fixtures.resourceDto()];
    api.accessRequests = [fixtures.accessRequestDto({ requesterUserId: 'usr_1' })];
    await startSession();
    const requestsBefore = (await controller.accessRequestsTree.getChildren()).map((i) => i.label);
    assert.equal(statusBar().text, '$(database) 1 Portcullis session');
    // The user expanded the resource; the Sessions view shows the session active.
    const [resource] = await controller.resourcesTree.getChildren();
    view('portcullis.resources').toggle(resource, true);
    await controller.resourcesTree.getChildren(resource);
    assert.match(String((await controller.sessionsTree.getChildren())[0].description), /^active · /);

    api.failWith = offline();
    await elapse(5000);
    assert.equal(controller.reachability.reconnecting, true, 'the periodic check noticed, with nothing else asking');
    assert.equal(statusBar().text, '$(sync~spin) 1 Portcullis session: reconnecting…');
    assert.match(
      String(statusBar().tooltip),
      /\nReconnecting: the server has not answered since \d\d:\d\d:\d\d \(could not reach .*ECONNREFUSED/,
    );
    for (const id of ['portcullis.resources', 'portcullis.sessions', 'portcullis.accessRequests']) {
      assert.match(
        view(id).message ?? '',
        /^Reconnecting to http:\/\/127\.0\.0\.1:1… No answer since \d\d:\d\d:\d\d; showing what was loaded before\.$/,
        id,
      );
    }
    // Trees keep what they showed, expanded, instead of an error line.
    controller.resourcesTree.refresh();
    const [again] = await controller.resourcesTree.getChildren();
    assert.equal(again.id, resource.id);
    assert.equal(again.collapsibleState, 2, 'still expanded');
    assert.deepEqual(
      (await controller.resourcesTree.getChildren(again)).map((i) => i.label),
      ['reader'],
    );
    controller.sessionsTree.refresh();
    const [session] = await controller.sessionsTree.getChildren();
    assert.match(String(session.description), /^reconnecting… · /);
    assert.equal(session.contextValue, 'session.local', 'still this window’s: Stop and mongosh stay offered');
    controller.accessRequestsTree.refresh();
    await settle();
    assert.deepEqual(
      (await controller.accessRequestsTree.getChildren()).map((i) => i.label),
      requestsBefore,
    );

    api.failWith = undefined;
    await elapse(2000);
    assert.equal(controller.reachability.reconnecting, false);
    assert.equal(statusBar().text, '$(database) 1 Portcullis session');
    assert.equal(view('portcullis.sessions').message, undefined);
    assert.match(String((await controller.sessionsTree.getChildren())[0].description), /^active · /);
  });

  it('with no session running, a failed request is enough to show the state', async () => {
    const { controller, api, offline, statusBar } = await signedIn();
    assert.equal(statusBar().visible, false);
    api.failWith = offline();
    controller.sessionsTree.refresh();
    const [line] = await controller.sessionsTree.getChildren();
    assert.match(String(line.label), /^Could not load sessions: could not reach/, 'nothing loaded before: the error, with retry');
    assert.equal(statusBar().visible, true);
    assert.equal(statusBar().text, '$(sync~spin) Portcullis: reconnecting…');
    api.failWith = undefined;
    await elapse(2000);
    assert.equal(statusBar().visible, false);
    // Back and idle: the server is not asked again on a timer.
    const checks = () => api.calls.filter((c) => c.method === 'health').length;
    const before = checks();
    await elapse(60_000);
    assert.equal(checks(), before);
  });

  it('remembers what the user collapsed and expanded, by stable ids, across a sign-in that rebuilds the tree', async () => {
    const { controller, view, fixtures, api } = await signedIn('member');
    api.me_ = fixtures.meDto('member', 2);
    api.resources = [fixtures.resourceDto({ projectId: 'prj_2' })];
    await controller.connection.reload();
    const [first, second] = await controller.resourcesTree.getChildren();
    assert.deepEqual([first.id, first.collapsibleState], ['project:prj_1', 2]);
    view('portcullis.resources').toggle(first, false);
    const [resource] = await controller.resourcesTree.getChildren(second);
    assert.equal(resource.collapsibleState, 1);
    view('portcullis.resources').toggle(resource, true);
    controller.resourcesTree.refresh();
    const [firstAgain, secondAgain] = await controller.resourcesTree.getChildren();
    assert.equal(firstAgain.collapsibleState, 1, 'collapsed stays collapsed');
    const [resourceAgain] = await controller.resourcesTree.getChildren(secondAgain);
    assert.equal(resourceAgain.collapsibleState, 2, 'expanded stays expanded');
  });
});

describe('sessions given up during an outage', () => {
  beforeEach(() => nodeMock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => nodeMock.timers.reset());

  it('end here with one message saying why and what to do, and are stopped at the server once it is back: no ghost', async () => {
    const { controller, api, access, startSession, offline } = await signedIn();
    const handle = await startSession();
    assert.equal(access.started[0].options.networkLostAfterMs, 60_000, 'the default reconnect timeout');
    await controller.sessionsTree.getChildren();
    api.failWith = offline();
    await elapse(5000);
    handle.end({ reason: 'network_lost', message: 'the control plane could not be reached for 60 s' });
    await settle();
    const warnings = mock.messages.filter((m) => m.severity === 'warning');
    assert.deepEqual(
      warnings.map((m) => m.text),
      [
        'Portcullis session orders-db / reader ended: the control plane could not be reached for 60 s. It is stopped at the server as soon as the server is back; then click Access to start a new one.',
      ],
    );
    assert.equal(controller.book.size, 0);
    assert.equal(controller.settler.isSettling(handle.session.id), true);
    controller.sessionsTree.refresh();
    const [pending] = await controller.sessionsTree.getChildren();
    assert.match(String(pending.description), /^ending: the server is told once it is back · /);
    assert.equal(pending.contextValue, 'session.ended', 'nothing to stop or open meanwhile');

    api.failWith = undefined;
    await elapse(2000);
    assert.deepEqual(
      api.calls.filter((c) => c.method === 'stopSession').map((c) => c.args[0]),
      [handle.session.id],
    );
    assert.equal(api.sessions[0].state, 'ended', 'stopped at the server');
    assert.equal(controller.settler.isSettling(handle.session.id), false);
    const [settled] = await controller.sessionsTree.getChildren();
    assert.match(String(settled.description), /^ended \(stopped\) · /);
    assert.equal(mock.messages.filter((m) => m.severity === 'warning').length, 1, 'one message in all');
  });

  it('a session the server ended meanwhile keeps its real end', async () => {
    const { controller, api, startSession, offline } = await signedIn();
    const handle = await startSession();
    api.failWith = offline();
    handle.end({ reason: 'network_lost', message: 'the control plane could not be reached for 60 s' });
    await settle();
    Object.assign(api.sessions[0], { state: 'expired', endReason: 'expired' });
    api.failWith = undefined;
    await controller.reachability.probe();
    await settle();
    assert.equal(controller.settler.size, 0);
    assert.equal(api.sessions[0].state, 'expired');
  });

  it('the reconnect timeout is the user’s setting', async () => {
    const { access, startSession } = await signedIn();
    mock.configuration.set('portcullis.reconnectTimeoutSeconds', 8);
    await startSession();
    assert.equal(access.started[0].options.networkLostAfterMs, 8000);
  });
});
