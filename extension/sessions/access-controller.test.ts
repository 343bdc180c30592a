import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import type { AccessRequestDto } from '../../protocol/api';
import { type MockProgress, type MockTerminal, makeExtensionContext, mock, resetMock, settle } from '../test/vscode-mock';

const bin = mkdtempSync(join(tmpdir(), 'portcullis-ext-bin-'));
const mongosh = join(bin, 'mongosh');
writeFileSync(mongosh, '#!/bin/sh\nexit 0\n');
chmodSync(mongosh, 0o755);
after(() => rmSync(bin, { recursive: true, force: true }));

async function setUp(
  options: { mfaCode?: string; fail?: Error; reasonRequired?: boolean; approvalRequired?: boolean; approval?: AccessRequestDto } = {},
) {
  resetMock();
  mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:1');
  mock.configuration.set('portcullis.mongoshPath', mongosh);
  const { PortcullisController } = await import('../portcullis-controller');
  const { FakeApi, fakeStartAccess } = await import('../test/fixtures');
  const api = new FakeApi('http://127.0.0.1:1');
  const approval = options.approval ? { api, request: options.approval } : undefined;
  const access = fakeStartAccess({ mfaCode: options.mfaCode, fail: options.fail, approval });
  const context = makeExtensionContext();
  context.storedSecrets.set('portcullis.token:http://127.0.0.1:1', 'tok_secret');
  const controller = new PortcullisController(context as never, { startAccess: access.start, createClient: () => api as never });
  await controller.activate();
  const { AccountTreeItem } = await import('../explorer/account-tree-item');
  const { accountDto, resourceDto } = await import('../test/fixtures');
  const policy = {
    mode: 'read-write' as const,
    databases: [],
    denied: [],
    reasonRequired: options.reasonRequired ?? false,
    approvalRequired: options.approvalRequired ?? false,
  };
  const item = new AccountTreeItem(accountDto({ mfaRequired: options.mfaCode !== undefined, policy }), resourceDto(), undefined, false);
  return { controller, api, access, item };
}

describe('Access from the Resources view', () => {
  beforeEach(() => resetMock());

  it('starts a session with the stored token, opens mongosh on the local address in a terminal named mongosh · resource / account', async () => {
    const { controller, access, item } = await setUp();
    await mock.commands.get('portcullis.access')!(item);
    assert.equal(access.started.length, 1);
    assert.equal(access.started[0].options.token, 'tok_secret');
    assert.equal(access.started[0].options.accountId, 'acc_1');
    assert.match(access.started[0].options.clientAgent ?? '', /^portcullis-vscode\//);
    assert.equal(mock.terminals.length, 1);
    const terminal = mock.terminals[0];
    assert.equal(terminal.name, 'mongosh · orders-db / reader');
    // The terminal runs the wrapper that runs mongosh (the address reaches it over its channel: terminals/).
    assert.equal(terminal.options.shellPath, process.execPath);
    assert.match(terminal.options.shellArgs?.[0] ?? '', /mongosh-terminal\.js$/);
    assert.ok(terminal.shown);
    assert.equal(controller.book.size, 1);
    assert.equal(mock.context.get('portcullis.hasLocalSessions'), true);
    const status = mock.statusBarItems[0];
    assert.ok(status.visible);
    assert.match(status.text, /1 Portcullis session$/);
  });

  it('asks for the MFA code, asks again with the error after a wrong one, and never logs the code', async () => {
    const { access, item } = await setUp({ mfaCode: '654321' });
    mock.inputAnswers.push('111111', '654321');
    await mock.commands.get('portcullis.access')!(item);
    assert.equal(access.started.length, 1);
    assert.equal(mock.inputPrompts.length, 2);
    assert.doesNotMatch(String(mock.inputPrompts[0].prompt), /not valid/);
    assert.match(String(mock.inputPrompts[1].prompt), /the code is not valid/);
    assert.ok(mock.messages.every((m) => !m.text.includes('111111') && !m.text.includes('654321')));
  });

  it('an account that requires a reason asks for one first and sends it; cancelling starts nothing', async () => {
    const { access, item, controller } = await setUp({ reasonRequired: true });
    mock.inputAnswers.push('  INC-7: stuck orders ');
    await mock.commands.get('portcullis.access')!(item);
    assert.equal(access.started.length, 1);
    assert.equal(access.started[0].options.reason, 'INC-7: stuck orders');
    assert.match(String(mock.inputPrompts[0].prompt), /requires a reason for access/);
    await controller.access.stop(controller.book.list()[0]);

    mock.inputAnswers.push(undefined);
    await mock.commands.get('portcullis.access')!(item);
    assert.equal(access.started.length, 1, 'nothing started after the reason prompt was cancelled');
    assert.deepEqual(
      mock.messages.filter((m) => m.severity === 'error'),
      [],
    );
  });

  it('cancelling the MFA prompt starts nothing and shows no error', async () => {
    const { controller, item } = await setUp({ mfaCode: '654321' });
    mock.inputAnswers.push(undefined);
    await mock.commands.get('portcullis.access')!(item);
    assert.equal(controller.book.size, 0);
    assert.equal(mock.terminals.length, 0);
    assert.deepEqual(
      mock.messages.filter((m) => m.severity === 'error'),
      [],
    );
  });

  it('reports a failure to start with the reason', async () => {
    const { item } = await setUp({ fail: new Error('the gateway that reaches this database is offline') });
    await mock.commands.get('portcullis.access')!(item);
    const error = mock.messages.find((m) => m.severity === 'error');
    assert.match(error?.text ?? '', /could not start a session on orders-db \/ reader: the gateway .* offline/);
    assert.equal(mock.terminals.length, 0);
  });

  it('when mongosh is missing, says so and offers to copy the address instead of opening a broken terminal', async () => {
    const { item } = await setUp();
    mock.configuration.set('portcullis.mongoshPath', join(bin, 'no-such-mongosh'));
    mock.messageAnswers.push('Copy Connection URI');
    await mock.commands.get('portcullis.access')!(item);
    await settle();
    assert.equal(mock.terminals.length, 0);
    const warning = mock.messages.find((m) => m.severity === 'warning');
    assert.match(warning?.text ?? '', /mongosh was not found/);
    assert.deepEqual(warning?.items, ['Copy Connection URI', 'Open Install Page']);
    assert.equal(mock.clipboard, 'mongodb://127.0.0.1:27999/');
  });

  it('tells the user why a session ended, forgets it, and updates the status bar', async () => {
    const { controller, access, item } = await setUp();
    await mock.commands.get('portcullis.access')!(item);
    access.started[0].handle.end({ reason: 'terminated', message: 'an admin terminated the session' });
    await settle();
    assert.equal(controller.book.size, 0);
    assert.ok(
      mock.messages.some((m) => m.severity === 'warning' && /orders-db \/ reader ended: an administrator terminated it/.test(m.text)),
    );
    assert.equal(mock.statusBarItems[0].visible, false);
    assert.equal(mock.context.get('portcullis.hasLocalSessions'), false);
  });

  it('Stop Session on the account ends it through the handle', async () => {
    const { controller, access, item } = await setUp();
    await mock.commands.get('portcullis.access')!(item);
    const { AccountTreeItem } = await import('../explorer/account-tree-item');
    const activeItem = new AccountTreeItem(item.account, item.resource, controller.book.findByAccount('acc_1'), false);
    assert.equal(activeItem.contextValue, 'account.active');
    await mock.commands.get('portcullis.stopSession')!(activeItem);
    assert.equal(access.started[0].handle.stopped, 1);
    assert.equal(controller.book.size, 0);
    assert.ok(mock.messages.some((m) => m.severity === 'information' && /orders-db \/ reader ended\./.test(m.text)));
  });

  it('Access on an account with a running session shows its terminal instead of starting a second session', async () => {
    const { access, item } = await setUp();
    await mock.commands.get('portcullis.access')!(item);
    await mock.commands.get('portcullis.access')!(item);
    assert.equal(access.started.length, 1);
    assert.equal(mock.terminals.length, 1);
  });

  it('Access on an account whose session has no terminal open any more opens one', async () => {
    const { access, item } = await setUp();
    mock.configuration.set('portcullis.endSessionOnTerminalClose', 'never');
    await mock.commands.get('portcullis.access')!(item);
    mock.terminals[0].dispose();
    await settle();
    await mock.commands.get('portcullis.access')!(item);
    assert.equal(access.started.length, 1);
    assert.equal(mock.terminals.length, 2);
  });

  it('deactivate ends every session of the window', async () => {
    const { controller, access, item } = await setUp();
    await mock.commands.get('portcullis.access')!(item);
    await controller.deactivate();
    assert.equal(access.started[0].handle.stopped, 1);
    assert.equal(controller.book.size, 0);
  });
});

describe('closing the mongosh terminal', () => {
  async function closeWith(rule: string, answer?: string) {
    const ctx = await setUp();
    mock.configuration.set('portcullis.endSessionOnTerminalClose', rule);
    await mock.commands.get('portcullis.access')!(ctx.item);
    if (answer !== undefined) mock.messageAnswers.push(answer);
    (mock.terminals[0] as MockTerminal).dispose();
    await settle();
    return ctx;
  }

  it('ask: ends the session when the user says End Session', async () => {
    const { access } = await closeWith('ask', 'End Session');
    assert.ok(mock.messages.some((m) => /End the session\?/.test(m.text)));
    assert.equal(access.started[0].handle.stopped, 1);
  });

  it('ask: keeps it running otherwise', async () => {
    const { access, controller } = await closeWith('ask', 'Keep Running');
    assert.equal(access.started[0].handle.stopped, 0);
    assert.equal(controller.book.size, 1);
  });

  it('always: ends it without asking', async () => {
    const { access } = await closeWith('always');
    assert.ok(!mock.messages.some((m) => /End the session\?/.test(m.text)));
    assert.equal(access.started[0].handle.stopped, 1);
  });

  it('never: keeps it without asking', async () => {
    const { access, controller } = await closeWith('never');
    assert.ok(!mock.messages.some((m) => /End the session\?/.test(m.text)));
    assert.equal(access.started[0].handle.stopped, 0);
    assert.equal(controller.book.size, 1);
  });

  it('does not ask while another terminal of the session is still open', async () => {
    const { access, item } = await setUp();
    mock.configuration.set('portcullis.endSessionOnTerminalClose', 'always');
    await mock.commands.get('portcullis.access')!(item);
    await mock.commands.get('portcullis.openMongosh')!();
    mock.terminals[0].dispose();
    await settle();
    assert.equal(access.started[0].handle.stopped, 0);
    mock.terminals[1].dispose();
    await settle();
    assert.equal(access.started[0].handle.stopped, 1);
  });
});

/** Polls `check` between rounds of queued work until it returns a value. */
async function until<T>(what: string, check: () => T | undefined): Promise<T> {
  for (let round = 0; round < 200; round++) {
    const value = check();
    if (value !== undefined) return value;
    await settle();
  }
  throw new Error(`${what} did not happen`);
}

describe('Access on an account that requires approval', () => {
  beforeEach(() => resetMock());

  async function setUpApproval(options: { mfaCode?: string } = {}) {
    const { accessRequestDto } = await import('../test/fixtures');
    // The signed-in user (usr_1, ada) is the requester.
    const request = accessRequestDto({ requesterUserId: 'usr_1', requesterEmail: 'ada@example.com', createdAt: new Date().toISOString() });
    const ctx = await setUp({ approvalRequired: true, approval: request, mfaCode: options.mfaCode });
    return { ...ctx, request };
  }
  const waitingProgress = () =>
    until('the waiting notification', () => mock.progress.find((p) => /waiting for an admin/.test(p.options.title ?? '')));
  const errors = () => mock.messages.filter((m) => m.severity === 'error');

  it('asks for a reason, waits in a cancellable notification naming the request, and starts the session once an admin approves', async () => {
    const { controller, api, access, item } = await setUpApproval();
    mock.inputAnswers.push('INC-42: stuck orders');
    const accessing = mock.commands.get('portcullis.access')!(item);
    const waiting = await waitingProgress();
    assert.equal(waiting.options.title, 'Portcullis: waiting for an admin to approve access to orders-db / reader (request req_1)');
    assert.equal(waiting.options.cancellable, true);
    assert.match(String(mock.inputPrompts[0].prompt), /requires an admin's approval/);
    assert.equal(access.requested[0].reason, 'INC-42: stuck orders');
    assert.ok(access.requested[0].signal, 'a signal is passed, so that Cancel can withdraw the request');
    await settle();
    assert.ok(mock.progress[0].done, 'the "connecting" notification closed when the wait began');
    // The inbox reloads on the new request: the user's own, with Cancel.
    await settle();
    const own = await controller.accessRequestsTree.getChildren();
    assert.deepEqual(
      own.map((i) => i.contextValue),
      ['accessRequest.pending.own'],
    );

    // Access again while it waits: no second wait, no second prompt.
    await mock.commands.get('portcullis.access')!(item);
    assert.ok(
      mock.messages.some((m) => /already waiting for an admin to approve access to orders-db \/ reader \(request req_1\)/.test(m.text)),
    );
    assert.equal(access.requested.length, 1);

    api.decide('req_1', {
      state: 'approved',
      decidedByEmail: 'carol@example.com',
      grantExpiresAt: new Date(Date.now() + 1800_000).toISOString(),
    });
    await accessing;
    await settle();
    assert.equal(access.started.length, 1);
    assert.equal(mock.terminals.length, 1);
    assert.ok(waiting.done, 'the waiting notification closed');
    assert.deepEqual(errors(), []);

    // Under the grant, the next Access neither asks for a reason again nor waits.
    await controller.access.stop(controller.book.list()[0]);
    const notifications = mock.progress.length;
    await mock.commands.get('portcullis.access')!(item);
    assert.equal(access.started.length, 2);
    assert.equal(access.started[1].options.reason, undefined, 'the server uses the grant’s reason');
    assert.equal(mock.inputPrompts.length, 1);
    assert.ok(mock.progress.slice(notifications).every((p) => !/waiting/.test(p.options.title ?? '')));
    assert.deepEqual(errors(), []);
  });

  it('Cancel aborts the signal and withdraws the request; nothing starts and no error shows', async () => {
    const { api, access, item, request } = await setUpApproval();
    mock.inputAnswers.push('INC-42: stuck orders');
    const accessing = mock.commands.get('portcullis.access')!(item);
    const waiting = await waitingProgress();
    waiting.cancel();
    await accessing;
    await settle();
    assert.equal(access.requested[0].signal?.aborted, true);
    assert.ok(api.calls.some((c) => c.method === 'cancelAccessRequest' && c.args[0] === 'req_1'));
    assert.equal(request.state, 'cancelled');
    assert.deepEqual(waiting.messages, ['withdrawing the request…']);
    assert.ok(waiting.done);
    assert.ok(mock.messages.some((m) => m.severity === 'information' && /the access request req_1 was withdrawn/.test(m.text)));
    assert.deepEqual(errors(), []);
    assert.equal(access.started.length, 0);
    assert.equal(mock.terminals.length, 0);
  });

  it('a denial says who denied it and their note; an unanswered request says it expired', async () => {
    const { api, access, item } = await setUpApproval();
    mock.inputAnswers.push('INC-42: stuck orders');
    const denied = mock.commands.get('portcullis.access')!(item);
    const first = await waitingProgress();
    api.decide('req_1', { state: 'denied', decidedByEmail: 'carol@example.com', note: 'use the staging copy' });
    await denied;
    await settle();
    assert.ok(first.done);
    assert.deepEqual(
      errors().map((m) => m.text),
      ['Portcullis: no access to orders-db / reader: carol@example.com denied the access request req_1: use the staging copy'],
    );

    mock.messages.length = 0;
    mock.progress.length = 0;
    mock.inputAnswers.push('INC-42 again');
    const expired = mock.commands.get('portcullis.access')!(item);
    await waitingProgress();
    api.decide('req_1', { state: 'expired', decidedAt: null });
    await expired;
    assert.match(
      errors()[0]?.text ?? '',
      /^Portcullis: no access to orders-db \/ reader: the access request req_1 expired before an admin answered it/,
    );
    assert.equal(access.started.length, 0);
  });

  it('asks for the MFA code after the approval, with the waiting notification gone', async () => {
    const { api, access, item } = await setUpApproval({ mfaCode: '654321' });
    mock.inputAnswers.push('INC-42: stuck orders');
    const accessing = mock.commands.get('portcullis.access')!(item);
    const waiting = await waitingProgress();
    let shownAtPrompt: string[] = [];
    mock.inputAnswers.push((options) => {
      assert.match(String(options.title), /verification code/);
      shownAtPrompt = mock.progress.map((p) => p.options.title ?? '');
      return '654321';
    });
    api.decide('req_1', { state: 'approved', decidedByEmail: 'carol@example.com' });
    await accessing;
    await settle();
    assert.ok(waiting.done);
    // The code is asked under a "connecting" notification that replaced the waiting one.
    assert.equal(shownAtPrompt.length, 3);
    assert.match(shownAtPrompt[2], /^Portcullis: connecting to orders-db \/ reader/);
    assert.equal(access.started.length, 1);
    assert.deepEqual(
      mock.progress.map((p: MockProgress) => [/connecting/.test(p.options.title ?? '') ? 'connecting' : 'waiting', p.done]),
      [
        ['connecting', true],
        ['waiting', true],
        ['connecting', true],
      ],
    );
  });

  it('signing out withdraws a waiting request first, while the token still works', async () => {
    const { api, item } = await setUpApproval();
    mock.inputAnswers.push('INC-42: stuck orders');
    const accessing = mock.commands.get('portcullis.access')!(item);
    await waitingProgress();
    await mock.commands.get('portcullis.signOut')!();
    await accessing;
    const order = api.calls.map((c) => c.method);
    assert.ok(order.includes('cancelAccessRequest'), order.join());
    assert.ok(order.indexOf('cancelAccessRequest') < order.indexOf('logout'), order.join());
    assert.deepEqual(errors(), []);
  });
});
