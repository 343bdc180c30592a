import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { newController } from '../test/controller-fixture';
import { mock } from '../test/vscode-mock';

const SERVER = 'http://127.0.0.1:4000';

async function fresh(secrets: Record<string, string> = {}) {
  const { controller, context, apis } = await newController({ secrets });
  mock.configuration.set('portcullis.serverUrl', SERVER);
  await controller.activate();
  const registered = mock.authProviders.get('portcullis');
  assert.ok(registered, 'the extension registered the authentication provider "portcullis"');
  const events: Array<{ added: unknown[]; removed: unknown[]; changed: unknown[] }> = [];
  registered.provider.onDidChangeSessions((e) => events.push(e));
  return { context, apis, provider: registered.provider, label: registered.label, events };
}

describe('the Portcullis account under Accounts (authentication provider)', () => {
  it('is declared in package.json under the id it is registered with', async () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
    assert.deepEqual(manifest.contributes.authentication, [{ id: 'portcullis', label: 'Portcullis' }]);
    const { label } = await fresh();
    assert.equal(label, 'Portcullis');
  });

  it('has no account while signed out; Sign In adds one, labelled with who and where, holding the token', async () => {
    const { provider, events } = await fresh();
    assert.deepEqual(await provider.getSessions(), []);
    mock.inputAnswers.push(SERVER, 'ada@example.com', 'right password');
    await mock.commands.get('portcullis.signIn')!();
    const sessions = await provider.getSessions();
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0].account.label, 'ada@example.com on 127.0.0.1:4000');
    assert.equal(sessions[0].accessToken, 'tok_secret');
    assert.deepEqual(
      events.map((e) => [e.added.length, e.removed.length, e.changed.length]),
      [[1, 0, 0]],
    );
  });

  it('a sign-in restored at start shows at once; Sign Out from Accounts revokes the token and removes the account', async () => {
    const { provider, events, apis, context } = await fresh({ [`portcullis.token:${SERVER}`]: 'tok_secret' });
    const [session] = await provider.getSessions();
    assert.ok(session);
    await provider.removeSession(session.id);
    assert.ok(
      apis.some((api) => api.calls.some((c) => c.method === 'logout')),
      'the token was revoked at the server',
    );
    assert.equal(context.storedSecrets.size, 0);
    assert.equal(mock.context.get('portcullis.signedIn'), false);
    assert.deepEqual(await provider.getSessions(), []);
    assert.deepEqual(
      events.map((e) => [e.added.length, e.removed.length, e.changed.length]),
      [[0, 1, 0]],
    );
    assert.match(mock.messages.at(-1)?.text ?? '', /Signed out of http:\/\/127\.0\.0\.1:4000/);
  });

  it('"Sign in to use Portcullis" runs Sign In; a cancelled sign-in is an error, not an empty session', async () => {
    const { provider } = await fresh();
    mock.inputAnswers.push(SERVER, 'ada@example.com', 'right password');
    const created = await provider.createSession([]);
    assert.equal(created.id, `${SERVER}#usr_1`);

    const other = await fresh();
    mock.inputAnswers.push(undefined as never);
    await assert.rejects(other.provider.createSession([]), /the sign-in did not finish/);
    assert.deepEqual(await other.provider.getSessions(), []);
  });
});
