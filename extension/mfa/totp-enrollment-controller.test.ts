/**
 * Set Up and Remove Authenticator App through the registered commands, with the VS Code mock and the in-memory API:
 * everything is said in the extension's terms (no CLI commands), a second set-up offers to remove the app first, and
 * removing it needs a current code.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { makeExtensionContext, mock, resetMock, settle } from '../test/vscode-mock';

async function setUp(enrolled: boolean) {
  resetMock();
  mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:1');
  const { PortcullisController } = await import('../portcullis-controller');
  const { FakeApi, fakeStartAccess } = await import('../test/fixtures');
  const api = new FakeApi('http://127.0.0.1:1');
  api.totp.enrolled = enrolled;
  const context = makeExtensionContext();
  context.storedSecrets.set('portcullis.token:http://127.0.0.1:1', 'tok_secret');
  const controller = new PortcullisController(context as never, { startAccess: fakeStartAccess().start, createClient: () => api as never });
  await controller.activate();
  return { api, run: (command: string) => mock.commands.get(`portcullis.${command}`)!() };
}

const noCliHints = () =>
  assert.ok(
    mock.messages.every((m) => !/portcullis mfa/.test(m.text)),
    mock.messages.map((m) => m.text).join('\n'),
  );

describe('the authenticator app', () => {
  beforeEach(() => resetMock());

  it('Set Up a second time says to remove the app first, with a button that removes it and goes on with the new one', async () => {
    const { api, run } = await setUp(true);
    mock.messageAnswers.push('Remove Authenticator App');
    mock.inputAnswers.push('123456', '123456');
    await run('enrollTotp');
    const first = mock.messages[0];
    assert.equal(first.text, 'An authenticator app is already set up for you. To replace it, remove it first.');
    assert.deepEqual(first.items, ['Remove Authenticator App']);
    assert.deepEqual(
      api.calls.filter((c) => /Totp/.test(c.method)).map((c) => c.method),
      ['removeTotp', 'startTotpEnrollment', 'confirmTotpEnrollment'],
    );
    assert.equal(mock.webviewPanels.length, 1, 'the QR code of the new app');
    assert.match(mock.messages.at(-1)?.text ?? '', /Authenticator app set up: MFA will ask for its codes/);
    assert.equal(mock.messages.length, 2, 'no "removed" message in the middle of replacing');
    noCliHints();
  });

  it('Set Up a second time, dismissed: nothing changes', async () => {
    const { api, run } = await setUp(true);
    mock.messageAnswers.push(undefined);
    await run('enrollTotp');
    assert.ok(!api.calls.some((c) => c.method === 'removeTotp' || c.method === 'startTotpEnrollment'));
    assert.equal(api.totp.enrolled, true);
  });

  it('Remove asks for a current code, asks again with the reason after a wrong one, then removes it', async () => {
    const { api, run } = await setUp(true);
    mock.inputAnswers.push('000000', '123456');
    await run('removeTotp');
    assert.deepEqual(
      api.calls.filter((c) => c.method === 'removeTotp').map((c) => c.args[0]),
      ['000000', '123456'],
    );
    assert.match(String(mock.inputPrompts[1].prompt), /That code was not accepted \(the code is not valid\)/);
    assert.equal(api.totp.enrolled, false);
    assert.equal(mock.messages.at(-1)?.text, 'Authenticator app removed; MFA codes now come by email.');
    noCliHints();
  });

  it('Remove without an app says there is nothing to remove; cancelling the code changes nothing', async () => {
    const none = await setUp(false);
    await none.run('removeTotp');
    assert.equal(mock.messages[0].text, 'You have no authenticator app to remove.');
    const { api, run } = await setUp(true);
    mock.inputAnswers.push(undefined);
    await run('removeTotp');
    await settle();
    assert.equal(api.totp.enrolled, true);
    assert.equal(mock.messages.at(-1)?.text, 'Authenticator app kept; nothing changed.');
  });
});
