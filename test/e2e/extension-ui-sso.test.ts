/**
 * Single sign-on from the VS Code extension in a real VS Code (code-server 4.100.3), driven with Playwright in
 * Debian's Chromium, against a control plane whose identity provider is a real OpenID Provider (oidc-provider) on
 * loopback. Sign In opens the server's SSO start in a new browser tab; the provider's login page is filled in
 * there; the browser comes back to code-server's `/callback` page (what `vscode.env.asExternalUri` made of the
 * extension's `code-oss://portcullis.portcullis/sso-callback`), which hands the answer to the workbench in the first
 * tab, and the workbench to the extension's URI handler. Nothing in the test calls into the extension.
 *
 * code-server listens on 127.0.0.2, an origin the control plane does not accept as loopback: it is accepted because
 * it is listed in the SSO redirect origins (PORTCULLIS_SSO_REDIRECT_ORIGINS), as a company's code-server would be.
 * Also: a cancelled sign-in, a user in no mapped group, the account under Accounts and its Sign Out, a control plane
 * addressed as 127.0.0.1 (which code-server would open through its port proxy), and one that does not list the origin.
 * Screenshots go to test-artifacts/extension-ui-sso/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { Page as ListPage, MemberDto, ProjectDto, ResourceDto } from '../../protocol/api';
import { type CodeServer, eventually, packageExtension, startCodeServer, textOf, Workbench } from '../bed/code-server';
import { freePort } from '../bed/ports';
import { enrollGateway } from './api-harness';
import { fillIdpLogin, SSO_USERS, type SsoWorld, startSsoWorld } from './sso-harness';

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'extension-ui-sso');
/** A loopback address that is not 127.0.0.1: the control plane must be told about this origin. */
const CODE_SERVER_HOST = '127.0.0.2';
/**
 * The control plane's address. Not 127.0.0.1 or localhost: code-server takes those for ports of its own machine and
 * rewrites what the extension opens to its port proxy (/proxy/PORT/), dropping the path and query up to at least
 * 4.100.3 (coder/code-server#7668), so the sign-in would never start. A company's control plane has a real name.
 */
const CONTROL_PLANE_HOST = '127.0.0.3';

describe('single sign-on from the VS Code extension in code-server', () => {
  let world: SsoWorld;
  let codeServer: CodeServer;
  let ui: Workbench;
  let adminToken: string;
  let defaultId: string;
  let payrollId: string;

  before(async () => {
    const vsix = packageExtension();
    const port = await freePort();
    world = await startSsoWorld('sqlite', { listenHost: CONTROL_PLANE_HOST }, { redirectOrigins: [`http://${CODE_SERVER_HOST}:${port}`] });
    const { server } = world;
    adminToken = await server.login(server.bootstrap.email, server.bootstrap.password);
    // The group map gives "developers" the default project; "payroll" is a project no group maps to.
    const me = await server.call<{ projects: ProjectDto[] }>('GET', '/me', { token: adminToken });
    defaultId = me.body.projects.find((p) => p.name === 'default')!.id;
    payrollId = (await server.call<ProjectDto>('POST', '/projects', { token: adminToken, body: { name: 'payroll' } })).body.id;
    for (const [projectId, name] of [
      [defaultId, 'orders'],
      [payrollId, 'salaries'],
    ]) {
      const gateway = await enrollGateway(server, adminToken, projectId, `gw-${name}`);
      const resource = await server.call<ResourceDto>('POST', '/resources', {
        token: adminToken,
        body: { projectId, name, gatewayId: gateway.gatewayId, connectionString: 'mongodb://db.internal:27017/' },
      });
      assert.equal(resource.status, 201, JSON.stringify(resource.body));
    }

    codeServer = await startCodeServer({
      vsix: [vsix],
      host: CODE_SERVER_HOST,
      port,
      settings: { 'portcullis.serverUrl': world.server.cp.url, 'portcullis.mongoshPath': '/nonexistent/mongosh' },
    });
    ui = await Workbench.open(codeServer, ARTIFACTS);
    await ui.page.locator('.activitybar .action-label[aria-label*="Portcullis"]').click();
  });

  after(async () => {
    await ui?.close();
    await codeServer?.stop();
    await world?.close();
  });

  /** The Sign In button of the signed-out Resources view. */
  function signInButton() {
    return ui.pane('Resources').locator('.welcome-view-content a.monaco-button', { hasText: 'Sign In' });
  }

  /** Sign In, the server (the one in the settings unless given), single sign-on: the browser tab the extension opened. */
  async function openSsoTab(server?: string): Promise<Page> {
    // The provider remembers who signed in last; a person's next sign-in here is somebody else's.
    await ui.page.context().clearCookies();
    await signInButton().click({ timeout: 60_000 });
    await ui.answer('1/3', server);
    const tabs = ui.page.context().pages().length;
    await ui.pick('2/3', 'Sign in with single sign-on');
    // VS Code asks before it opens a website that is not among its trusted domains, as it would for a person.
    const dialog = ui.page.locator('.monaco-dialog-box', { hasText: 'open the external website' });
    await dialog.waitFor({ timeout: 30_000 });
    await ui.shot('open-external-website');
    await dialog.getByRole('button', { name: 'Open', exact: true }).click();
    return eventually('the browser tab the extension opened', async () => ui.page.context().pages()[tabs]);
  }

  /** openSsoTab, then the provider's login page in that tab. */
  async function startSignIn(): Promise<Page> {
    const tab = await openSsoTab();
    await tab.waitForLoadState();
    await tab
      .locator('input[name="login"]')
      .waitFor({ timeout: 20_000 })
      .catch(async () => {
        throw new Error(
          `the provider's login page did not show: the tab is at ${tab.url()} and shows ${await tab.locator('body').textContent()}`,
        );
      });
    return tab;
  }

  it('Cancel on the progress notification stops the sign-in and says so', async () => {
    const tab = await startSignIn();
    await tab.locator('input[name="login"]').waitFor({ timeout: 20_000 });
    assert.equal(new URL(tab.url()).origin, world.idp.issuer, 'the tab shows the provider’s login page');
    await tab.close();
    const progress = ui.notification(/Signing in with single sign-on in your browser/);
    await progress.waitFor();
    await ui.shot('waiting-for-browser');
    await progress.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await ui.notification(/could not sign in to .* with single sign-on: the single sign-on was cancelled/).waitFor();
    await ui.shot('cancelled');
    await signInButton().waitFor();
  });

  it('a user in no mapped group is refused with the reason, and stays signed out', async () => {
    const tab = await startSignIn();
    await fillIdpLogin(tab, SSO_USERS.carol);
    const refused = ui.notification(/could not sign in to .* with single sign-on: the single sign-on was refused/);
    await refused.waitFor({ timeout: 30_000 });
    await ui.shot('refused');
    assert.match(
      await textOf(refused),
      /the single sign-on was refused: carol@example\.com is in no group that gives access to a Portcullis project \(groups from the identity provider: marketing\)/,
    );
    await tab.close();
    await signInButton().waitFor();
  });

  it('signs in through the provider and the URI handler; the tree shows only the project the user’s group maps to', async () => {
    const tab = await startSignIn();
    await fillIdpLogin(tab, SSO_USERS.alice);
    // The browser ends on code-server's callback page, which hands the answer to the workbench.
    await eventually('the code-server callback page', async () =>
      new URL(tab.url()).origin === codeServer.origin && new URL(tab.url()).pathname.endsWith('/callback') ? true : undefined,
    );
    const back = new URL(tab.url());
    assert.equal(back.searchParams.get('vscode-authority'), 'portcullis.portcullis');
    assert.equal(back.searchParams.get('vscode-path'), '/sso-callback');
    assert.match(back.searchParams.get('code') ?? '', /^pcs_/);
    // The page's script hands the answer over before the page renders; closing the tab earlier would lose it.
    await tab.getByText('You can close this page now.').waitFor();
    await tab.close();

    await ui.row('orders').waitFor({ timeout: 30_000 });
    await ui.shot('signed-in-with-sso');
    const rows = await textOf(ui.pane('Resources').locator('.monaco-list-row'));
    assert.doesNotMatch(rows, /salaries|payroll/, 'a project no group maps to is not shown');

    // At the server: alice was made a member of the default project by her group, and nothing else.
    const members = await world.server.call<ListPage<MemberDto>>('GET', `/projects/${defaultId}/members?limit=200`, { token: adminToken });
    assert.deepEqual(
      members.body.items.filter((m) => m.email === 'alice@example.com').map((m) => m.role),
      ['member'],
    );
    const payrollMembers = await world.server.call<ListPage<MemberDto>>('GET', `/projects/${payrollId}/members?limit=200`, {
      token: adminToken,
    });
    assert.ok(!payrollMembers.body.items.some((m) => m.email === 'alice@example.com'));
  });

  it('the account shows under Accounts; Sign Out there signs out of Portcullis', async () => {
    const accounts = ui.page.locator('.activitybar .action-label[aria-label*="Accounts"]').first();
    await accounts.click();
    const account = ui.page.locator('.context-view .monaco-menu .action-item', {
      hasText: /alice@example\.com on 127\.0\.0\.3:\d+ \(Portcullis\)/,
    });
    await account.waitFor({ timeout: 10_000 });
    await account.hover();
    await ui.shot('accounts-menu');
    const signOut = ui.page.locator('.context-view .monaco-submenu .action-item', { hasText: 'Sign Out' }).first();
    await signOut.hover();
    await signOut.click({ delay: 80 });
    const confirm = ui.page.locator('.monaco-dialog-box', { hasText: /alice@example\.com/ });
    await confirm.waitFor({ timeout: 10_000 });
    await ui.shot('accounts-sign-out-confirm');
    await confirm.getByRole('button', { name: 'Sign Out' }).click();
    await signInButton().waitFor({ timeout: 30_000 });
    await ui.notification(/Signed out of http:\/\/127\.0\.0\.3:\d+\./).waitFor();
    await ui.shot('signed-out-from-accounts');
  });

  it('a control plane addressed as 127.0.0.1 is refused before any browser tab opens, with what to do instead', async () => {
    const local = await startSsoWorld('sqlite');
    try {
      const tabs = ui.page.context().pages().length;
      await signInButton().click();
      await ui.answer('1/3', local.server.cp.url);
      await ui.pick('2/3', 'Sign in with single sign-on');
      const refused = ui.notification(/through its port proxy/);
      await refused.waitFor({ timeout: 30_000 });
      await ui.shot('localhost-server-refused');
      assert.match(
        await textOf(refused),
        /could not sign in to http:\/\/127\.0\.0\.1:\d+ with single sign-on: this editor opens http:\/\/127\.0\.0\.1:\d+ through its port proxy and loses the sign-in's address \(code-server does this for localhost and 127\.0\.0\.1\); run Sign In again with the server's real name, or sign in with email and password/,
      );
      assert.equal(ui.page.context().pages().length, tabs, 'no browser tab was opened');
    } finally {
      await local.close();
    }
  });

  it('a control plane that does not list code-server’s origin refuses to start; the tab says why, Cancel ends the wait', async () => {
    const unlisted = await startSsoWorld('sqlite', { listenHost: '127.0.0.4' });
    try {
      const tab = await openSsoTab(unlisted.server.cp.url);
      await tab.getByText('is not allowed').waitFor({ timeout: 20_000 });
      const body = JSON.parse((await tab.locator('body').textContent()) ?? '');
      assert.equal(body.error.code, 'bad_request');
      assert.equal(
        body.error.message,
        `redirect_uri ${codeServer.origin} is not allowed: use a loopback address, or ask an admin to list the origin in PORTCULLIS_SSO_REDIRECT_ORIGINS`,
      );
      await tab.close();
      const progress = ui.notification(/Signing in with single sign-on in your browser/);
      await progress.locator('.monaco-button', { hasText: 'Cancel' }).click();
      // This server's address makes the message this sign-in's, not the one the first test left.
      await ui
        .notification(
          new RegExp(`could not sign in to ${escapeRegExp(unlisted.server.cp.url)} with single sign-on: the single sign-on was cancelled`),
        )
        .waitFor();
    } finally {
      await unlisted.close();
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
