/**
 * The web console as an admin uses it, in real Chromium against the real control plane, gateway, FerretDB and
 * mongosh: a wrong password, then sign-in; a resource and an account created and tested from the pages; a session's
 * log growing on its page while mongosh runs commands through the tunnel; Terminate on the page cutting mongosh; the
 * search and the audit log showing what happened. axe-core checks every page for serious violations.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { AccountDto, ResourceDto } from '../../protocol/api';
import { type AccessHandle, startAccess } from '../../proxy-core/access';
import { runMongosh } from '../bed/mongosh';
import { assertAccessible, type ConsoleBed, signIn, startConsoleBed } from './console-harness';
import { waitFor } from './tunnel-harness';

let c: ConsoleBed;
let page: Page;

/** Rows of the session page's log whose command cell names `command`. */
async function logRows(command: string): Promise<number> {
  return page.locator('table.log tbody tr').filter({ hasText: command }).count();
}

describe('the web console, as an admin, in real Chromium', () => {
  let resource: ResourceDto;
  let account: AccountDto;
  let access: AccessHandle | undefined;

  before(async () => {
    c = await startConsoleBed('console-admin');
    page = await c.newPage();
  });
  after(async () => {
    await access?.stop().catch(() => undefined);
    await c?.stop();
  });

  it('refuses a wrong password with the server’s message, then signs in', async () => {
    await page.goto(c.url);
    await page.getByLabel('Email').fill(c.admin.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong email or password' }).waitFor();
    await assertAccessible(page, 'sign-in page with an error');
    await c.shot(page, '01-sign-in-wrong-password', 'console-sign-in');
    await signIn(page, c.url, c.admin.email, c.admin.password);
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    // The token stays in the HttpOnly cookie: page scripts cannot read it.
    assert.equal(await page.evaluate('document.cookie'), '');
    const [cookie] = await page.context().cookies();
    assert.equal(cookie.name, 'portcullis_console');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    await assertAccessible(page, 'sessions page');
  });

  it('creates a resource and an account from the pages, and tests both connections', async () => {
    await page.getByRole('link', { name: 'Resources' }).click();
    await page.getByRole('button', { name: 'Add resource' }).click();
    await page.getByLabel('Name').fill('shop-db');
    await page.locator('select[name=gatewayId]').selectOption({ label: 'tunnel-test-gateway (online)' });
    await page.getByLabel('Connection string').fill(c.bed.db.uri);
    await page.getByLabel('Use TLS').uncheck();
    await page.getByRole('button', { name: 'Test these settings' }).click();
    await page
      .locator('output.ok')
      .filter({ hasText: /^OK \(\d+ ms\): Reached the database/ })
      .waitFor();
    await assertAccessible(page, 'add resource form');
    await page.getByRole('button', { name: 'Create resource' }).click();
    await page.getByRole('heading', { name: 'Resource shop-db' }).waitFor();
    const [project] = await c.bed.api.listProjects();
    resource = (await c.bed.api.listResources({ projectId: project.id, name: 'shop-db' })).items[0];
    assert.equal(resource.connectionString, c.bed.db.uri);
    assert.equal(resource.tlsEnabled, false);

    await page.getByRole('button', { name: 'Add account' }).click();
    await page.getByLabel('Name', { exact: true }).fill('app-rw');
    await page.getByLabel('Database user').fill(c.bed.db.username);
    await page.getByLabel('Password', { exact: true }).fill(c.bed.db.password);
    await page.getByLabel('Description').fill('read-write for the app team');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('status').filter({ hasText: 'Account app-rw created.' }).waitFor();
    await page.getByRole('button', { name: 'Test app-rw' }).click();
    await page
      .locator('output.ok')
      .filter({ hasText: /Signed in to the database of resource "shop-db"/ })
      .waitFor();
    account = (await c.bed.api.listAccounts(resource.id)).items[0];
    assert.equal(account.name, 'app-rw');
    assert.equal(account.username, c.bed.db.username);
    await assertAccessible(page, 'resource page with its account');
    await c.shot(page, '02-resource-and-account', 'console-resource');
  });

  it('shows a running session’s log growing while mongosh runs commands through the tunnel, and terminates it', async () => {
    access = await startAccess({
      server: c.bed.server,
      token: c.bed.token,
      accountId: account.id,
      clientAgent: 'console-test',
      pollIntervalMs: 500,
    });
    const ended = new Promise<{ reason: string }>((resolve) => access!.once('ended', resolve));
    await page.goto(`${c.url}#/sessions/${access.session.id}`);
    await page.getByText('(live)').waitFor();
    // One insert every 300 ms for up to a minute: the session is terminated long before that.
    const mongosh = runMongosh(
      access.uri,
      "for (let i = 0; i < 200; i++) { db.getSiblingDB('shop').orders.insertOne({ _id: i, item: 'tea' }); sleep(300); }",
      { timeoutMs: 90_000 },
    );
    await waitFor(async () => (await logRows('insert')) >= 2, 'two inserts on the page');
    const seen = await logRows('insert');
    // Without reloading: the page follows the log.
    await waitFor(async () => (await logRows('insert')) >= seen + 3, 'the log to grow on the page');
    await assertAccessible(page, 'live session page');
    await c.shot(page, '03-session-live', 'console-session-live');

    await page.getByRole('button', { name: 'Terminate session' }).click();
    const terminatedAt = Date.now();
    await page.getByRole('button', { name: 'Yes, terminate' }).click();
    await page.getByTestId('session-state').filter({ hasText: 'terminated' }).waitFor();
    const end = await ended;
    assert.equal(end.reason, 'terminated');
    const result = await mongosh;
    assert.notEqual(result.code, 0, 'mongosh was cut off');
    assert.ok(Date.now() - terminatedAt < 20_000, 'mongosh ended soon after the terminate, not at the end of its loop');
    const inserted = await logRows('insert');
    assert.ok(inserted < 200, `the loop was cut (${inserted} inserts logged)`);
    assert.equal((await c.bed.api.getSession(access.session.id)).state, 'terminated');
    await page.getByRole('status').filter({ hasText: 'The session was terminated' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Terminate session' }).count(), 0);
  });

  it('finds the session’s commands by searching, and lists sessions by state', async () => {
    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.getByLabel('Search commands in session logs').fill('orders tea');
    await page.getByRole('button', { name: 'Search' }).click();
    const hit = page.locator('tbody tr').filter({ hasText: access!.session.id }).first();
    await hit.waitFor();
    assert.match((await hit.textContent()) ?? '', /insert/);
    // Times are local (the browser runs in Europe/Berlin) with UTC on hover.
    const time = hit.locator('time');
    assert.match((await time.getAttribute('title')) ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    assert.ok(new URL(page.url()).hash.includes('q=orders+tea'), 'the search is in the address');
    await assertAccessible(page, 'search results');
    await c.shot(page, '04-search', 'console-search');

    await page.goto(`${c.url}#/sessions?state=terminated`);
    await page.locator('tbody tr').filter({ hasText: access!.session.id }).waitFor();
    await page.goto(`${c.url}#/sessions?state=active`);
    await page.getByText('No sessions match.').waitFor();
  });

  it('shows what happened in the audit log', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const rows = page.locator('tbody tr');
    await rows.filter({ hasText: 'session.terminated' }).waitFor();
    for (const action of ['resource.created', 'account.created', 'account.connection_tested', 'session.started']) {
      assert.ok((await rows.filter({ hasText: action }).count()) > 0, `${action} is listed`);
    }
    await page.getByLabel('Action').fill('session.terminated');
    await page.getByRole('button', { name: 'Filter' }).click();
    await waitFor(async () => (await rows.count()) === 1, 'only the terminate listed');
    assert.match((await rows.first().textContent()) ?? '', new RegExp(access!.session.id));
    await assertAccessible(page, 'audit log');
    await c.shot(page, '05-audit', 'console-audit');
  });

  it('is usable from the keyboard: pages focus their heading, the navigation is reachable, Skip to content goes back', async () => {
    await page.getByRole('link', { name: 'Gateways' }).click();
    await page.getByRole('heading', { name: 'Gateways' }).waitFor();
    // A new page puts the focus on its heading; going back from there passes the navigation and the header.
    assert.equal(await page.evaluate('document.activeElement?.tagName'), 'H1');
    const passed: string[] = [];
    for (let i = 0; i < 15 && passed.at(-1) !== 'Skip to content'; i++) {
      await page.keyboard.press('Shift+Tab');
      passed.push(String(await page.evaluate('document.activeElement?.textContent')));
    }
    assert.deepEqual(passed, [
      'My MFA',
      'Access requests',
      'Audit log',
      'Members and roles',
      'Gateways',
      'Resources',
      'Sessions',
      'Sign out',
      'Skip to content',
    ]);
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement?.tagName'), 'H1');
    await page.getByLabel('Gateway name').fill('dc1');
    await page.getByRole('button', { name: 'Create enrollment token' }).click();
    const command = page.locator('pre').filter({ hasText: 'portcullis gateway start' });
    await command.waitFor();
    assert.match(
      (await command.textContent()) ?? '',
      new RegExp(`--server ${c.bed.server.replace(/[.]/g, '\\.')} --token-file enroll-token --name dc1`),
    );
    assert.match((await page.locator('pre.secret').textContent()) ?? '', /^pce_/);
    await assertAccessible(page, 'gateways page');
    await c.shot(page, '06-gateways', 'console-gateways');
  });
});
