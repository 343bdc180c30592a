import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { newController } from '../test/controller-fixture';
import { env, mock, resetMock, settle, Uri } from '../test/vscode-mock';

const SERVER = 'http://127.0.0.1:4000';

async function fresh() {
  const { controller, context, apis } = await newController({
    configure: (api) => {
      api.sso = { enabled: true, name: 'Acme SSO', idpMfaAccepted: false };
    },
  });
  await controller.activate();
  return { controller, context, apis };
}

/** Starts Sign In, picks single sign-on, and returns the start address the browser was sent to. */
async function startSso(): Promise<{ signIn: Promise<unknown>; start: URL }> {
  mock.inputAnswers.push(SERVER);
  mock.quickPickAnswers.push((items) => items.find((i) => i.label === 'Sign in with Acme SSO'));
  const signIn = Promise.resolve(mock.commands.get('portcullis.signIn')!());
  for (let i = 0; i < 10 && mock.openedExternal.length === 0; i++) await settle();
  assert.equal(mock.openedExternal.length, 1, 'the browser was opened');
  return { signIn, start: new URL(mock.openedExternal[0]) };
}

/** The browser coming back to the extension's URI handler. */
function arrive(query: Record<string, string>): void {
  const handler = mock.uriHandlers[0];
  assert.ok(handler, 'the extension registered a URI handler');
  handler.handleUri(Uri.parse(`vscode://portcullis.portcullis/sso-callback?${new URLSearchParams(query)}`));
}

describe('Sign In with single sign-on', () => {
  it('offers the provider, opens the server’s SSO start with a PKCE challenge and the editor redirect, and stores the token', async () => {
    const { context, apis } = await fresh();
    const { signIn, start } = await startSso();
    assert.equal(`${start.origin}${start.pathname}`, `${SERVER}/api/v1/auth/sso/start`);
    assert.equal(start.searchParams.get('redirect_uri'), 'vscode://portcullis.portcullis/sso-callback');
    assert.equal(start.searchParams.get('code_challenge_method'), 'S256');
    const state = start.searchParams.get('state') ?? '';
    assert.ok(state.length >= 16);

    arrive({ code: 'code_ok', state });
    await signIn;
    const exchange = apis[0].calls.find((c) => c.method === 'ssoToken')?.args[0] as { code: string; codeVerifier: string };
    assert.equal(exchange.code, 'code_ok');
    const challenge = createHash('sha256').update(exchange.codeVerifier).digest('base64url');
    assert.equal(challenge, start.searchParams.get('code_challenge'), 'the verifier matches the challenge sent to the browser');
    assert.doesNotMatch(mock.openedExternal[0], new RegExp(exchange.codeVerifier), 'the verifier never leaves the extension');
    assert.deepEqual([...context.storedSecrets.entries()], [[`portcullis.token:${SERVER}`, 'tok_sso']]);
    assert.equal(mock.context.get('portcullis.signedIn'), true);
    assert.equal(mock.inputPrompts.length, 1, 'no email or password was asked');
  });

  it('ignores an arrival with another state (a forged or stale link), then finishes with the right one', async () => {
    const { context } = await fresh();
    const { signIn, start } = await startSso();
    arrive({ code: 'code_ok', state: 'forged' });
    await settle();
    assert.equal(context.storedSecrets.size, 0);
    arrive({ code: 'code_ok', state: start.searchParams.get('state') ?? '' });
    await signIn;
    assert.equal(context.storedSecrets.size, 1);
  });

  it('a sign-in the identity provider refused comes back as an error: nothing stored, the reason shown', async () => {
    const { context } = await fresh();
    const { signIn, start } = await startSso();
    arrive({ error: 'access_denied', state: start.searchParams.get('state') ?? '' });
    await signIn;
    assert.equal(context.storedSecrets.size, 0);
    assert.equal(mock.context.get('portcullis.signedIn'), false);
    assert.match(mock.messages.find((m) => m.severity === 'error')?.text ?? '', /did not finish \(access_denied\); run Sign In again/);
  });

  it('a code the server refuses (used, expired) says so and stores nothing', async () => {
    const { context } = await fresh();
    const { signIn, start } = await startSso();
    arrive({ code: 'code_used', state: start.searchParams.get('state') ?? '' });
    await signIn;
    assert.equal(context.storedSecrets.size, 0);
    assert.match(mock.messages.find((m) => m.severity === 'error')?.text ?? '', /single sign-on was refused: this sign-in code is unknown/);
  });

  it('Cancel on the progress notification stops waiting; a later arrival is ignored', async () => {
    const { context } = await fresh();
    const { signIn, start } = await startSso();
    const progress = mock.progress.find((p) => /Acme SSO/.test(p.options.title ?? ''));
    assert.ok(progress);
    progress.cancel();
    await signIn;
    assert.match(mock.messages.find((m) => m.severity === 'error')?.text ?? '', /single sign-on was cancelled/);
    arrive({ code: 'code_ok', state: start.searchParams.get('state') ?? '' });
    await settle();
    assert.equal(context.storedSecrets.size, 0);
  });

  it('says so, without opening the browser, when the editor would open the start address without its path (code-server and localhost)', async () => {
    const { context } = await fresh();
    const original = env.asExternalUri;
    // What code-server 4.100 does with http://127.0.0.1:PORT/…: its port proxy, path and query gone.
    env.asExternalUri = async (uri: Uri) => (uri.scheme === 'http' ? Uri.parse('http://127.0.0.2:8080/proxy/4000/') : uri);
    try {
      mock.inputAnswers.push(SERVER);
      mock.quickPickAnswers.push((items) => items.find((i) => i.label === 'Sign in with Acme SSO'));
      await mock.commands.get('portcullis.signIn')!();
    } finally {
      env.asExternalUri = original;
    }
    assert.equal(mock.openedExternal.length, 0);
    assert.equal(context.storedSecrets.size, 0);
    assert.match(
      mock.messages.find((m) => m.severity === 'error')?.text ?? '',
      /could not sign in to http:\/\/127\.0\.0\.1:4000 with Acme SSO: this editor opens http:\/\/127\.0\.0\.1:4000 through its port proxy and loses the sign-in's address .*run Sign In again with the server's real name/,
    );
  });

  it('waiting ends with a clear error after the timeout', async () => {
    resetMock();
    const { SsoRedirects } = await import('./sso-sign-in');
    const never = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) };
    await assert.rejects(new SsoRedirects().wait('s', 20, never as never), /no sign-in came back in time; run Sign In again/);
  });

  it('a server without single sign-on goes straight to email and password', async () => {
    const { controller } = await newController();
    await controller.activate();
    mock.inputAnswers.push(SERVER, 'ada@example.com', 'right password');
    await mock.commands.get('portcullis.signIn')!();
    assert.equal(mock.context.get('portcullis.signedIn'), true);
    assert.equal(mock.openedExternal.length, 0);
  });
});
