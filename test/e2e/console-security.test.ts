/**
 * The web console's protections, in real Chromium against the real control plane: a member sees only their own
 * sessions and no admin control; a page of another origin cannot use the sign-in cookie (CSRF token); the CSP
 * keeps an injected inline script from running; the authenticator app set up on the MFA page is asked for at the
 * next sign-in; the bearer-token API the CLI and the extension use works as before beside the cookie.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { AccessResponse } from '../../protocol/api';
import { ApiClient } from '../../proxy-core/api-client';
import { TOTP_PERIOD_SECONDS, totpCode } from '../../server/mfa/totp';
import { accessBody } from '../bed/tunnel-key';
import { assertAccessible, type ConsoleBed, signIn, startConsoleBed } from './console-harness';

const MEMBER = { email: 'member@example.com', password: 'Member-Pa55word-for-the-console' };
// The control plane's clock runs this far ahead, so that a test can move to the next authenticator code.
let clockOffsetMs = 0;

let c: ConsoleBed;
let memberApi: ApiClient;
let memberSessionId: string;
let adminSessionId: string;

function sessionIdOf(answer: AccessResponse): string {
  assert.equal(answer.kind, 'session');
  return answer.kind === 'session' ? answer.session.id : '';
}

describe('the web console’s protections, in real Chromium', () => {
  before(async () => {
    c = await startConsoleBed('console-security', { now: () => new Date(Date.now() + clockOffsetMs) });
    const [project] = await c.bed.api.listProjects();
    await c.bed.api.addMember(project.id, { email: MEMBER.email, role: 'member', name: 'Member', password: MEMBER.password });
    memberApi = new ApiClient({ server: c.bed.server });
    memberApi.setToken((await memberApi.login(MEMBER)).token);
    memberSessionId = sessionIdOf(await memberApi.requestAccess(c.bed.account.id, accessBody({ clientAgent: 'member-test' })));
    adminSessionId = sessionIdOf(await c.bed.api.requestAccess(c.bed.account.id, accessBody({ clientAgent: 'admin-test' })));
  });
  after(async () => {
    await c?.stop();
  });

  it('shows a member only their own sessions, and no admin pages or controls', async () => {
    const page = await c.newPage();
    await signIn(page, c.url, MEMBER.email, MEMBER.password);
    const rows = page.locator('tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    assert.match((await rows.first().textContent()) ?? '', new RegExp(memberSessionId));
    assert.equal(await rows.filter({ hasText: adminSessionId }).count(), 0);
    // No user filter for members (they have only themselves).
    assert.equal(await page.getByLabel('User', { exact: true }).count(), 0);
    const nav = page.getByRole('navigation', { name: 'Console pages' });
    assert.deepEqual(await nav.getByRole('link').allTextContents(), ['Sessions', 'Resources', 'Access requests', 'My MFA']);
    await assertAccessible(page, 'member sessions page');

    await rows.first().getByRole('link').click();
    await page.getByTestId('session-state').filter({ hasText: 'active' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Terminate session' }).count(), 0);
    await c.shot(page, 'member-session', 'console-member-session');

    // Someone else's session: the API answers not found, and the page says so.
    await page.goto(`${c.url}#/sessions/${adminSessionId}`);
    await page.getByRole('alert').filter({ hasText: 'not found' }).waitFor();

    await page.getByRole('link', { name: 'Resources' }).click();
    await page.getByRole('link', { name: 'ferret' }).click();
    await page.getByRole('heading', { name: 'Resource ferret' }).waitFor();
    await page.getByRole('cell', { name: 'setup-admin' }).first().waitFor();
    for (const name of ['Add resource', 'Add account', 'Edit resource', 'Delete resource', 'Test connection', 'Edit']) {
      assert.equal(await page.getByRole('button', { name }).count(), 0, `no ${name} button for a member`);
    }
    await assertAccessible(page, 'member resource page');
    // The admin pages are not offered, and the API refuses them anyway.
    await page.goto(`${c.url}#/audit`);
    await page.getByRole('alert').filter({ hasText: /admin/ }).waitFor();
    await page.context().close();
  });

  it('refuses a state-changing request that carries the cookie but not the CSRF token, also from a page of another origin', async () => {
    const page = await c.newPage();
    await signIn(page, c.url, c.admin.email, c.admin.password);
    // A page on another port of the same host: same site, so SameSite=Strict still sends the cookie.
    const attacker: Server = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(`<!doctype html><title>elsewhere</title><script>
        fetch(${JSON.stringify(`${c.bed.server}/api/v1/sessions/${memberSessionId}/terminate`)}, { method: 'POST', mode: 'no-cors', credentials: 'include' })
          .then(() => { document.title = 'sent'; }, () => { document.title = 'failed'; });
      </script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (attacker.address() as { port: number }).port;
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction('document.title !== "elsewhere"');
      assert.equal(await page.title(), 'sent');
    } finally {
      await new Promise((resolve) => attacker.close(resolve));
    }
    assert.equal((await c.bed.api.getSession(memberSessionId)).state, 'active', 'the cross-origin request terminated nothing');
    const audit = await c.bed.api.listAudit((await c.bed.api.listProjects())[0].id, { limit: 500 });
    assert.equal(audit.items.filter((e) => e.action === 'session.terminated').length, 0);

    // On the console's own origin: without the header refused, with it (as the pages send it) done.
    await page.goto(c.url);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    // The answer holding the CSRF token is never cached, and no API answer may be sniffed into a script.
    const headers = (await page.evaluate(
      `fetch('/api/v1/console/session').then((r) => [r.headers.get('cache-control'), r.headers.get('x-content-type-options')])`,
    )) as string[];
    assert.deepEqual(headers, ['no-store', 'nosniff']);
    const path = `/api/v1/sessions/${memberSessionId}/terminate`;
    const without = (await page.evaluate(
      `fetch(${JSON.stringify(path)}, { method: 'POST' }).then(async (r) => ({ status: r.status, body: await r.json() }))`,
    )) as { status: number; body: { error: { code: string; message: string } } };
    assert.equal(without.status, 403);
    assert.equal(without.body.error.code, 'forbidden');
    assert.match(without.body.error.message, /CSRF token/);
    const wrong = (await page.evaluate(
      `fetch(${JSON.stringify(path)}, { method: 'POST', headers: { 'x-csrf-token': 'guess' } }).then((r) => r.status)`,
    )) as number;
    assert.equal(wrong, 403);
    assert.equal((await c.bed.api.getSession(memberSessionId)).state, 'active');
    const withToken = (await page.evaluate(`fetch('/api/v1/console/session').then((r) => r.json()).then((s) =>
      fetch(${JSON.stringify(path)}, { method: 'POST', headers: { 'x-csrf-token': s.csrfToken } })).then((r) => r.status)`)) as number;
    assert.equal(withToken, 200);
    assert.equal((await c.bed.api.getSession(memberSessionId)).state, 'terminated');
    await page.context().close();
  });

  it('serves a strict Content-Security-Policy, under which an injected inline script does not run', async () => {
    const page = await c.newPage();
    const response = await page.goto(c.url);
    const csp = response?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    // As a stored XSS would: markup with inline script added to the page.
    await page.evaluate(`
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true';
      document.body.append(script);
      const div = document.createElement('div');
      div.innerHTML = '<img src="data:," onerror="window.__handlerRan = true">';
      document.body.append(div);
    `);
    await page.waitForFunction('window.__violations.length >= 2');
    assert.equal(await page.evaluate('window.__inlineRan'), undefined);
    assert.equal(await page.evaluate('window.__handlerRan'), undefined);
    assert.ok(((await page.evaluate('window.__violations')) as string[]).every((d) => d.startsWith('script-src')));
    await page.context().close();
  });

  it('sets up an authenticator app on the MFA page (QR code), then asks for its code at sign-in', async () => {
    const page = await c.newPage();
    await signIn(page, c.url, MEMBER.email, MEMBER.password);
    await page.getByRole('link', { name: 'My MFA' }).click();
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const qr = page.getByRole('img', { name: /QR code/ });
    await qr.waitFor();
    assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/png;base64,/);
    const secret = ((await page.locator('code.secret').textContent()) ?? '').trim();
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    await assertAccessible(page, 'MFA enrollment');
    await c.shot(page, 'mfa-enrollment', 'console-mfa');
    await page.getByLabel('Current code from the app').fill(totpCode(secret, new Date(Date.now() + clockOffsetMs)));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('status').filter({ hasText: 'Your authenticator app is set up' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();

    // The next code (a used one is refused): move the control plane's clock one period on.
    clockOffsetMs += TOTP_PERIOD_SECONDS * 1000;
    await page.getByLabel('Email').fill(MEMBER.email);
    await page.getByLabel('Password').fill(MEMBER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const codeField = page.getByRole('textbox', { name: 'Authenticator code' });
    await codeField.waitFor();
    assert.equal(await page.evaluate('document.activeElement?.name'), 'code', 'the code field has the focus');
    const right = totpCode(secret, new Date(Date.now() + clockOffsetMs));
    const wrong = right.replace(/^./, (d) => String((Number(d) + 5) % 10));
    await codeField.fill(wrong);
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong code' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
    await assertAccessible(page, 'sign-in asking for the code');
    await codeField.fill(right);
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    // The CLI's sign-in is unchanged: the bearer API needs no code (MFA guards access to accounts there).
    const cli = new ApiClient({ server: c.bed.server });
    const { token } = await cli.login(MEMBER);
    cli.setToken(token);
    assert.equal((await cli.me()).user.email, MEMBER.email);
    await page.context().close();
  });
});
