/**
 * The console's cookie over HTTPS: a control plane serving TLS (a certificate from a CA made at test time) sets it
 * Secure, so the browser never sends it over plain HTTP; the console signs in and works in real Chromium.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { resolveConfig } from '../../server/config';
import { type ControlPlane, startControlPlane } from '../../server/control-plane';
import { makeTestCerts } from '../bed/certs';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../bed/code-server';
import { removeTempDir, trackTempDir } from '../bed/processes';
import { buildConsole, signIn } from './console-harness';

let cp: ControlPlane;
let browser: Browser;
let dir: string;
let consoleDir: string;

describe('the console over HTTPS, in real Chromium', () => {
  before(async () => {
    dir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-console-https-')));
    mkdirSync(join(dir, 'certs'));
    const certs = makeTestCerts(join(dir, 'certs'));
    consoleDir = buildConsole();
    cp = await startControlPlane(
      resolveConfig({
        dataDir: join(dir, 'data'),
        listenPort: 0,
        logger: false,
        tls: { certFile: certs.verified.certFile, keyFile: certs.verified.keyFile },
        consoleDir,
      }),
      { smtp: null },
    );
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
  });
  after(async () => {
    await browser?.close();
    await cp?.close();
    removeTempDir(consoleDir);
    removeTempDir(dir);
  });

  it('sets the sign-in cookie Secure and HttpOnly, and the console works', async () => {
    assert.match(cp.url, /^https:/);
    // The test CA is not in Chromium's store: this profile accepts the certificate (the cookie is what is tested).
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const bootstrap = cp.bootstrapResult!;
    await signIn(page, `${cp.url}/`, bootstrap.email, bootstrap.password);
    const [cookie] = await context.cookies();
    assert.equal(cookie.name, 'portcullis_console');
    assert.equal(cookie.secure, true);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/api/v1');
    await page.getByRole('link', { name: 'Gateways' }).click();
    await page.getByLabel('Gateway name').fill('dc1');
    await page.getByRole('button', { name: 'Create enrollment token' }).click();
    await page.locator('pre.secret').filter({ hasText: /^pce_/ }).waitFor();
    await context.close();
  });
});
