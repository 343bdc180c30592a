import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newController } from '../test/controller-fixture';
import { mock, settle } from '../test/vscode-mock';

function fresh(secrets: Record<string, string> = {}) {
  return newController({ secrets });
}

describe('sign in and out', () => {
  it('Sign In asks for server, email and password (masked), keeps the token only in SecretStorage, and remembers the server', async () => {
    const { controller, context } = await fresh();
    await controller.activate();
    mock.inputAnswers.push('http://127.0.0.1:4000/api/v1/', 'ada@example.com', 'right password');
    await mock.commands.get('portcullis.signIn')!();
    assert.equal(mock.inputPrompts[2].password, true);
    assert.notEqual(mock.inputPrompts[0].password, true);
    assert.deepEqual([...context.storedSecrets.entries()], [['portcullis.token:http://127.0.0.1:4000', 'tok_secret']]);
    assert.deepEqual(mock.configurationUpdates, [{ key: 'portcullis.serverUrl', value: 'http://127.0.0.1:4000', target: 1 }]);
    assert.equal(mock.context.get('portcullis.signedIn'), true);
    assert.equal(mock.context.get('portcullis.isAdmin'), false);
    for (const m of mock.messages) assert.doesNotMatch(m.text, /tok_secret|right password/);
  });

  it('a wrong password shows the server’s reason and stores nothing', async () => {
    const { controller, context } = await fresh();
    await controller.activate();
    mock.inputAnswers.push('http://127.0.0.1:4000', 'ada@example.com', 'wrong');
    await mock.commands.get('portcullis.signIn')!();
    assert.equal(context.storedSecrets.size, 0);
    assert.equal(mock.context.get('portcullis.signedIn'), false);
    const error = mock.messages.find((m) => m.severity === 'error');
    assert.match(error?.text ?? '', /wrong email or password/);
    assert.doesNotMatch(error?.text ?? '', /wrong$/);
  });

  it('rejects a server address that is not http(s) before sending anything', async () => {
    const { controller, apis } = await fresh();
    await controller.activate();
    mock.inputAnswers.push('ftp://example.com');
    await mock.commands.get('portcullis.signIn')!();
    assert.match(mock.messages.find((m) => m.severity === 'error')?.text ?? '', /rejected: .*http:\/\/ or https:\/\//);
    assert.equal(apis.length, 0);
  });

  it('restores a stored sign-in on activation; an expired token is dropped and the user is told', async () => {
    mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:4000');
    const ok = await fresh({ 'portcullis.token:http://127.0.0.1:4000': 'tok_secret' });
    mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:4000');
    await ok.controller.activate();
    assert.equal(mock.context.get('portcullis.signedIn'), true);

    const expired = await fresh({ 'portcullis.token:http://127.0.0.1:4000': 'expired' });
    mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:4000');
    await expired.controller.activate();
    assert.equal(mock.context.get('portcullis.signedIn'), false);
    assert.equal(expired.context.storedSecrets.size, 0);
    assert.match(mock.messages[0]?.text ?? '', /sign-in has expired/);
  });

  it('Sign Out asks first while sessions run, then ends them, revokes the token at the server and says what it ended', async () => {
    const { controller, context, apis } = await fresh({ 'portcullis.token:http://127.0.0.1:4000': 'tok_secret' });
    mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:4000');
    await controller.activate();
    const { AccountTreeItem } = await import('../explorer/account-tree-item');
    const { accountDto, resourceDto } = await import('../test/fixtures');
    mock.configuration.set('portcullis.mongoshPath', process.execPath);
    await mock.commands.get('portcullis.access')!(new AccountTreeItem(accountDto(), resourceDto(), undefined, false));
    assert.equal(controller.book.size, 1);

    // Dismissed: nothing ends.
    mock.messageAnswers.push(undefined);
    await mock.commands.get('portcullis.signOut')!();
    const question = mock.messages.at(-1)!;
    assert.equal(question.text, 'Sign out and end your session on orders-db / reader?');
    assert.deepEqual(question.items, ['Sign Out']);
    assert.equal((question.options as { modal?: boolean }).modal, true);
    assert.equal(controller.book.size, 1);
    assert.equal(mock.context.get('portcullis.signedIn'), true);

    mock.messages.length = 0;
    mock.messageAnswers.push('Sign Out');
    await mock.commands.get('portcullis.signOut')!();
    assert.equal(controller.book.size, 0);
    assert.ok(apis[0].calls.some((c) => c.method === 'logout'));
    assert.equal(context.storedSecrets.size, 0);
    assert.equal(mock.context.get('portcullis.signedIn'), false);
    // One message says what ended (no separate "session ended" notification).
    assert.deepEqual(
      mock.messages.slice(1).map((m) => m.text),
      ['Signed out of http://127.0.0.1:4000. Ended your session: orders-db / reader.'],
    );
  });

  it('Sign Out with nothing running signs out without asking', async () => {
    const { controller } = await fresh({ 'portcullis.token:http://127.0.0.1:4000': 'tok_secret' });
    mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:4000');
    await controller.activate();
    await mock.commands.get('portcullis.signOut')!();
    assert.deepEqual(
      mock.messages.map((m) => m.text),
      ['Signed out of http://127.0.0.1:4000.'],
    );
  });

  it('a failed sign-in offers Try Again with the server and email filled in (never the password)', async () => {
    const { controller } = await fresh();
    mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:4000');
    await controller.activate();
    mock.inputAnswers.push('http://127.0.0.1:5000', 'ada@example.com', 'wrong');
    mock.messageAnswers.push('Try Again');
    mock.inputAnswers.push(
      (o) => o.value as string,
      (o) => o.value as string,
      'right password',
    );
    await mock.commands.get('portcullis.signIn')!();
    await settle();
    const error = mock.messages.find((m) => m.severity === 'error')!;
    assert.equal(error.text, 'Portcullis: could not sign in to http://127.0.0.1:5000 as ada@example.com: wrong email or password');
    assert.deepEqual(error.items, ['Try Again']);
    assert.equal(mock.inputPrompts[3].value, 'http://127.0.0.1:5000', 'the server typed, not the setting');
    assert.equal(mock.inputPrompts[4].value, 'ada@example.com');
    assert.equal(mock.inputPrompts[5].value, undefined);
    assert.equal(mock.context.get('portcullis.signedIn'), true);
    assert.equal(controller.connection.identity, 'ada@example.com on 127.0.0.1:5000');
    assert.match(mock.messages.at(-1)!.text, /^Signed in to Portcullis at http:\/\/127\.0\.0\.1:5000 as ada@example\.com\.$/);
  });
});
