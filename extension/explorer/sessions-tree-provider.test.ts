import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeExtensionContext, mock, resetMock } from '../test/vscode-mock';

async function signedIn(role: 'admin' | 'member') {
  resetMock();
  mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:1');
  const { PortcullisController } = await import('../portcullis-controller');
  const fixtures = await import('../test/fixtures');
  const api = new fixtures.FakeApi('http://127.0.0.1:1');
  api.me_ = fixtures.meDto(role);
  const context = makeExtensionContext();
  context.storedSecrets.set('portcullis.token:http://127.0.0.1:1', 'tok_secret');
  const controller = new PortcullisController(context as never, {
    startAccess: fixtures.fakeStartAccess().start,
    createClient: () => api as never,
  });
  await controller.activate();
  return { controller, api, fixtures };
}

describe('Stop on the user’s own sessions started elsewhere', () => {
  it('offers Stop on one’s own session running outside this window, asks, stops it at the server and says so', async () => {
    const { controller, api, fixtures } = await signedIn('member');
    api.sessions = [
      fixtures.sessionDto({ id: 'ses_cli', clientAgent: 'portcullis-cli/0.1.0', expiresAt: new Date(Date.now() + 600_000).toISOString() }),
    ];
    const [item] = await controller.sessionsTree.getChildren();
    assert.equal(item.contextValue, 'session.active.own');
    assert.match(
      (item.tooltip as { value: string }).value,
      /Running elsewhere \(the CLI, another window or machine\): Stop ends it there too\./,
    );

    mock.messageAnswers.push(undefined);
    await mock.commands.get('portcullis.stopSession')!(item);
    assert.equal(api.calls.filter((c) => c.method === 'stopSession').length, 0, 'dismissed: nothing stopped');
    const question = mock.messages.at(-1)!;
    assert.equal(question.text, 'Stop your session on orders-db / reader?');
    assert.match(String((question.options as { detail: string }).detail), /outside this window \(portcullis-cli\/0\.1\.0\)/);

    mock.messageAnswers.push('Stop Session');
    await mock.commands.get('portcullis.stopSession')!(item);
    assert.deepEqual(
      api.calls.filter((c) => c.method === 'stopSession').map((c) => c.args),
      [['ses_cli']],
    );
    assert.equal(mock.messages.at(-1)!.text, 'Stopped your session on orders-db / reader.');
    const [after] = await controller.sessionsTree.getChildren();
    assert.match(String(after.description), /^ended \(stopped\) · /);

    // Ended meanwhile (another click, the CLI): said plainly, not as a failure.
    mock.messageAnswers.push('Stop Session');
    await mock.commands.get('portcullis.stopSession')!(item);
    assert.equal(mock.messages.at(-1)!.text, 'Your session on orders-db / reader had ended already.');
  });

  it('offers Stop only on the user’s own: another user’s session gets Terminate (admins) and nothing else', async () => {
    const { controller, api, fixtures } = await signedIn('admin');
    api.sessions = [
      fixtures.sessionDto({ id: 'ses_bob', userId: 'usr_2', userEmail: 'bob@example.com' }),
      fixtures.sessionDto({ id: 'ses_mine' }),
    ];
    const items = await controller.sessionsTree.getChildren();
    assert.deepEqual(
      items.map((i) => [i.id, i.contextValue]),
      [
        ['session:ses_bob', 'session.active.admin'],
        ['session:ses_mine', 'session.active.own.admin'],
      ],
    );
  });
});

describe('accounts', () => {
  it('Enter (the item’s default command) on an account runs Access on it', async () => {
    const { controller, api, fixtures } = await signedIn('member');
    api.resources = [fixtures.resourceDto()];
    const [resource] = await controller.resourcesTree.getChildren();
    const [account] = await controller.resourcesTree.getChildren(resource);
    assert.equal(account.command?.command, 'portcullis.access');
    assert.deepEqual(account.command?.arguments, [account]);
    mock.configuration.set('portcullis.mongoshPath', process.execPath);
    await mock.commands.get(account.command!.command)!(...(account.command?.arguments ?? []));
    assert.equal(controller.book.size, 1);
    assert.equal(controller.book.list()[0].accountId, 'acc_1');
  });
});
