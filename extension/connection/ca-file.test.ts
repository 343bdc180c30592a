/**
 * The portcullis.caFile setting against a real control plane serving HTTPS with a certificate from a CA made for
 * the test (test/bed/certs.ts): Sign In is refused without the CA and with another CA, each saying to set
 * portcullis.caFile, and works with it; then the API calls go through the same trust.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../server/config';
import { runServer } from '../../server/run-server';
import { makeTestCerts, type TestCerts } from '../../test/bed/certs';
import { removeTempDir, trackTempDir } from '../../test/bed/processes';
import { makeExtensionContext, mock, resetMock } from '../test/vscode-mock';

describe('portcullis.caFile: a server certificate from a private CA', () => {
  let dir: string;
  let certs: TestCerts;
  let other: TestCerts;
  let server: Awaited<ReturnType<typeof runServer>>;

  before(async () => {
    dir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-ext-ca-')));
    mkdirSync(join(dir, 'right'));
    mkdirSync(join(dir, 'wrong'));
    certs = makeTestCerts(join(dir, 'right'));
    other = makeTestCerts(join(dir, 'wrong'));
    server = await runServer(
      resolveConfig({
        dataDir: join(dir, 'data'),
        listenPort: 0,
        logger: false,
        tls: { certFile: certs.verified.certFile, keyFile: certs.verified.keyFile },
      }),
    );
    assert.ok(server.url.startsWith('https://'), server.url);
  });
  after(async () => {
    await server?.close();
    removeTempDir(dir);
  });

  async function signIn(caFile: string | undefined) {
    resetMock();
    if (caFile !== undefined) mock.configuration.set('portcullis.caFile', caFile);
    const { PortcullisController } = await import('../portcullis-controller');
    const fixtures = await import('../test/fixtures');
    // The real API client (no createClient given): the setting must reach its TLS.
    const controller = new PortcullisController(makeExtensionContext() as never, { startAccess: fixtures.fakeStartAccess().start });
    await controller.activate();
    const bootstrap = server.bootstrap;
    assert.ok(bootstrap);
    mock.inputAnswers.push(server.url, bootstrap.email, bootstrap.password);
    await mock.commands.get('portcullis.signIn')!();
    const signedIn = mock.context.get('portcullis.signedIn') === true;
    const errors = mock.messages.filter((m) => m.severity === 'error').map((m) => m.text);
    await controller.deactivate();
    return { signedIn, errors };
  }

  it('without the CA: refused, saying to set portcullis.caFile', async () => {
    const { signedIn, errors } = await signIn(undefined);
    assert.equal(signedIn, false);
    assert.match(errors.join('\n'), /presented a certificate this machine does not trust .*the portcullis\.caFile setting/);
  });

  it('with another CA: refused, saying the CA did not issue it', async () => {
    const { signedIn, errors } = await signIn(other.ca.certFile);
    assert.equal(signedIn, false);
    assert.match(errors.join('\n'), /a certificate that the given CA did not issue .*portcullis\.caFile/);
  });

  it('with the CA: signed in', async () => {
    const { signedIn, errors } = await signIn(certs.ca.certFile);
    assert.deepEqual(errors, []);
    assert.equal(signedIn, true);
  });
});
