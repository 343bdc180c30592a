/**
 * The web console's remaining pages in real Chromium against the real control plane: paging a list with the API's
 * cursors, members and roles, the access requests inbox (a member's request approved with a note), and the dark
 * theme (which axe-core checks as well, contrast included).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GATEWAY_ENROLL_PATH } from '../../protocol/gateway-channel';
import { ApiClient } from '../../proxy-core/api-client';
import { accessBody } from '../bed/tunnel-key';
import { assertAccessible, type ConsoleBed, signIn, startConsoleBed } from './console-harness';
import { waitFor } from './tunnel-harness';

const MEMBER = { email: 'member@example.com', password: 'Member-Pa55word-for-the-pages' };

let c: ConsoleBed;
let projectId: string;
let memberApi: ApiClient;

describe('the web console’s lists, members and access requests, in real Chromium', () => {
  before(async () => {
    c = await startConsoleBed('console-pages');
    projectId = (await c.bed.api.listProjects())[0].id;
    await c.bed.api.addMember(projectId, { email: MEMBER.email, role: 'member', name: 'Member', password: MEMBER.password });
    memberApi = new ApiClient({ server: c.bed.server });
    memberApi.setToken((await memberApi.login(MEMBER)).token);
  });
  after(async () => {
    await c?.stop();
  });

  it('pages the sessions list with the API’s cursors (25 a page)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 27; i++) {
      const answer = await c.bed.api.requestAccess(c.bed.account.id, accessBody({ clientAgent: `paging-${i}` }));
      if (answer.kind === 'session') ids.push(answer.session.id);
    }
    const page = await c.newPage();
    await signIn(page, c.url, c.admin.email, c.admin.password);
    const links = page.locator('tbody tr td:first-child a');
    await waitFor(async () => (await links.count()) === 25, 'a first page of 25');
    const first = await links.allTextContents();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2').waitFor();
    await waitFor(async () => (await links.count()) === 2, 'a second page of 2');
    const second = await links.allTextContents();
    assert.deepEqual([...first, ...second].sort(), [...ids].sort(), 'the two pages hold every session once');
    assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Page 1').waitFor();
    await waitFor(async () => (await links.count()) === 25, 'the first page again');
    assert.deepEqual(await links.allTextContents(), first);
    await page.context().close();
  });

  it('adds a member, changes a role and removes a member', async () => {
    const page = await c.newPage();
    await signIn(page, c.url, c.admin.email, c.admin.password);
    await page.getByRole('link', { name: 'Members and roles' }).click();
    await page.getByLabel('Email').fill('lead@example.com');
    await page.locator('select[name=memberRole]').selectOption('admin');
    await page.getByLabel('Name (new users)').fill('Team Lead');
    await page.getByLabel('Initial password (new users only)').fill('Lead-Pa55word-for-the-pages');
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByRole('status').filter({ hasText: 'lead@example.com added as admin.' }).waitFor();
    let members = await c.bed.api.listMembers(projectId);
    assert.equal(members.find((m) => m.email === 'lead@example.com')?.role, 'admin');
    // The new admin signs in with the password given here.
    assert.ok(
      (await new ApiClient({ server: c.bed.server }).login({ email: 'lead@example.com', password: 'Lead-Pa55word-for-the-pages' })).token,
    );

    await page.getByLabel('Role of lead@example.com').selectOption('member');
    await page.getByRole('status').filter({ hasText: 'lead@example.com is now member.' }).waitFor();
    members = await c.bed.api.listMembers(projectId);
    assert.equal(members.find((m) => m.email === 'lead@example.com')?.role, 'member');
    // Admins cannot demote or remove themselves here.
    assert.equal(await page.getByLabel(`Role of ${c.admin.email}`).isDisabled(), true);
    await assertAccessible(page, 'members page');

    await page.getByRole('button', { name: 'Remove lead@example.com' }).click();
    await page.getByRole('button', { name: 'Yes, remove lead@example.com' }).click();
    await page.getByRole('status').filter({ hasText: 'lead@example.com removed.' }).waitFor();
    members = await c.bed.api.listMembers(projectId);
    assert.equal(
      members.some((m) => m.email === 'lead@example.com'),
      false,
    );
    await page.context().close();
  });

  it('lets an admin approve a member’s access request from the inbox, with a note', async () => {
    const account = await c.bed.api.createAccount(c.bed.account.resourceId, {
      name: 'on-call',
      username: c.bed.db.username,
      password: c.bed.db.password,
      policy: { approvalRequired: true },
    });
    const asked = await memberApi.requestAccess(account.id, accessBody({ reason: 'INC-9: recount', durationSeconds: 1800 }));
    assert.equal(asked.kind, 'approval');
    const requestId = asked.kind === 'approval' ? asked.request.id : '';

    // The member sees it pending, with Cancel and no Approve.
    const member = await c.newPage();
    await signIn(member, c.url, MEMBER.email, MEMBER.password);
    await member.getByRole('link', { name: 'Access requests' }).click();
    const own = member.locator('tbody tr').filter({ hasText: 'INC-9: recount' });
    await own.waitFor();
    assert.equal(await own.getByRole('button', { name: 'Cancel request' }).count(), 1);
    assert.equal(await own.getByRole('button', { name: 'Approve' }).count(), 0);
    await member.context().close();

    const page = await c.newPage({ colorScheme: 'dark' });
    await signIn(page, c.url, c.admin.email, c.admin.password);
    await page.getByRole('link', { name: 'Access requests' }).click();
    const row = page.locator('tbody tr').filter({ hasText: 'INC-9: recount' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /member@example\.com.*ferret \/ on-call.*30m/);
    await row.getByLabel(`Note for ${MEMBER.email}`).fill('go ahead');
    // The dark theme follows the system's setting, and passes the same checks.
    assert.equal(await page.evaluate(`getComputedStyle(document.body).backgroundColor`), 'rgb(21, 23, 26)');
    await assertAccessible(page, 'access requests inbox (dark)');
    await c.shot(page, 'access-requests-dark', 'console-access-requests-dark');
    await row.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').filter({ hasText: 'approved' }).waitFor();
    const decided = await memberApi.getAccessRequest(requestId);
    assert.equal(decided.state, 'approved');
    assert.equal(decided.note, 'go ahead');
    assert.equal(decided.decidedByEmail, c.admin.email);
    // Pending is the default view: the decided request left it.
    await waitFor(async () => (await row.count()) === 0, 'the request to leave the pending list');
    await page.locator('select[name=requestState]').selectOption('approved');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /approved by admin@localhost: go ahead/);
    await page.context().close();
  });

  it('filters sessions by user, resource and account, and by time', async () => {
    const mine = await memberApi.requestAccess(c.bed.account.id, accessBody({ clientAgent: 'filter-test' }));
    assert.equal(mine.kind, 'session');
    const memberSessionId = mine.kind === 'session' ? mine.session.id : '';
    const page = await c.newPage();
    await signIn(page, c.url, c.admin.email, c.admin.password);
    await page.locator('select[name=userId]').selectOption({ label: MEMBER.email });
    await page.locator('select[name=resourceId]').selectOption({ label: 'ferret' });
    await page.locator('select[name=accountId] option', { hasText: 'setup-admin' }).waitFor({ state: 'attached' });
    await page.locator('select[name=accountId]').selectOption({ label: 'setup-admin' });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const links = page.locator('tbody tr td:first-child a');
    await waitFor(async () => (await links.count()) === 1, 'only the member’s session');
    assert.deepEqual(await links.allTextContents(), [memberSessionId]);
    const hash = new URL(page.url()).hash;
    assert.match(hash, /userId=usr_/);
    assert.match(hash, /accountId=acc_/);
    // A time window that ended before the session started: nothing.
    await page.getByLabel('To', { exact: true }).fill('2020-01-01T00:00');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No sessions match.').waitFor();
    await page.context().close();
  });

  it('edits and deletes an account and a resource', async () => {
    const resource = await c.bed.api.createResource(projectId, {
      name: 'scratch-db',
      gatewayId: (await c.bed.api.getResource(c.bed.account.resourceId)).gatewayId,
      connectionString: c.bed.db.uri,
      tlsEnabled: false,
    });
    await c.bed.api.createAccount(resource.id, { name: 'temp', username: c.bed.db.username, password: c.bed.db.password });
    const page = await c.newPage();
    await signIn(page, c.url, c.admin.email, c.admin.password);
    await page.goto(`${c.url}#/resources/${resource.id}`);
    await page.getByRole('heading', { name: 'Resource scratch-db' }).waitFor();

    await page.getByRole('button', { name: 'Edit temp' }).click();
    const form = page.getByRole('form', { name: 'Edit account temp' });
    await form.getByLabel('Description').fill('for a one-off fix');
    await form.getByLabel('Read-only (the gateway refuses writes)').check();
    await form.getByRole('button', { name: 'Save account' }).click();
    await page.getByRole('status').filter({ hasText: 'Account temp saved.' }).waitFor();
    const [saved] = (await c.bed.api.listAccounts(resource.id)).items;
    assert.equal(saved.description, 'for a one-off fix');
    assert.equal(saved.policy.mode, 'read-only');
    // The stored password was kept (the field was left empty): the account still signs in.
    await page.getByRole('button', { name: 'Test temp' }).click();
    await page
      .locator('output.ok')
      .filter({ hasText: /Signed in to the database of resource "scratch-db"/ })
      .waitFor();

    await page.getByRole('button', { name: 'Delete temp' }).click();
    await page.getByRole('button', { name: 'Yes, delete temp' }).click();
    await page.getByRole('status').filter({ hasText: 'Account temp deleted.' }).waitFor();
    assert.equal((await c.bed.api.listAccounts(resource.id)).items.length, 0);

    await page.getByRole('button', { name: 'Edit resource' }).click();
    await page.getByLabel('Auth database').fill('other');
    await page.getByRole('button', { name: 'Save resource' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    assert.equal((await c.bed.api.getResource(resource.id)).authDatabase, 'other');
    await page.getByRole('button', { name: 'Delete resource' }).click();
    await page.getByRole('button', { name: 'Yes, delete resource' }).click();
    await page.getByRole('heading', { name: 'Resources' }).waitFor();
    await assert.rejects(c.bed.api.getResource(resource.id), /not found/);
    await page.context().close();
  });

  // Last: the members and gateways it adds would be on the other tests' pages.
  it('pages the members and the gateways with the API’s cursors (25 a page)', async () => {
    for (let i = 0; i < 25; i++) {
      const n = String(i).padStart(2, '0');
      await c.bed.api.addMember(projectId, {
        email: `paged-${n}@example.com`,
        role: 'member',
        name: `Paged ${n}`,
        password: MEMBER.password,
      });
      const { token } = await c.bed.api.createEnrollmentToken({ projectId, name: `paged-gw-${n}` });
      const enrolled = await fetch(`${c.bed.server}/api/v1${GATEWAY_ENROLL_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, name: `paged-gw-${n}` }),
      });
      assert.equal(enrolled.status, 201, await enrolled.text());
    }
    const members = (await c.bed.api.listMembers(projectId)).map((m) => m.email);
    const gateways = (await c.bed.api.listGateways(projectId)).map((g) => g.name);
    assert.ok(members.length > 25 && gateways.length > 25, 'more than a page of each');
    const page = await c.newPage();
    await signIn(page, c.url, c.admin.email, c.admin.password);
    const firstCells = page.locator('tbody tr td:first-child');
    for (const [link, all] of [
      ['Members and roles', members],
      ['Gateways', gateways],
    ] as const) {
      await page.getByRole('link', { name: link }).click();
      await waitFor(async () => (await firstCells.count()) === 25, `a first page of 25 (${link})`);
      const first = await firstCells.allTextContents();
      await page.getByRole('button', { name: 'Next page' }).click();
      await page.getByText('Page 2').waitFor();
      await waitFor(async () => (await firstCells.count()) === all.length - 25, `the rest on page 2 (${link})`);
      const second = await firstCells.allTextContents();
      assert.deepEqual([...first, ...second], all, `${link}: every item once, in the API's order`);
      assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
      await assertAccessible(page, `${link}, page 2`);
    }
    await page.context().close();
  });
});
