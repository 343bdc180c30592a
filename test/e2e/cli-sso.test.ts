/**
 * `portcullis login --sso` as a user runs it, against a control plane whose identity provider is a real OpenID
 * Provider: the browser (Chromium) opens the printed address, the provider's login page is filled in, the browser
 * comes back to the CLI's loopback listener, and the CLI is signed in with the projects the groups map to. Also the
 * device variant, and a user the provider removed from their group: refused, and the earlier sign-in revoked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCli, CliRunner, newCliUser, removeBuild } from './cli-harness';
import { fillIdpLogin, SSO_USERS, type SsoWorld, startSsoWorld } from './sso-harness';

describe('portcullis login --sso', () => {
  let bundle: string;
  let cli: CliRunner;
  let world: SsoWorld;
  before(async () => {
    bundle = await buildCli();
    cli = new CliRunner(bundle);
    world = await startSsoWorld();
  });
  after(async () => {
    for (const child of cli?.processes ?? []) child.kill('SIGKILL');
    await world?.close();
    removeBuild(bundle);
  });

  /** Runs `login --sso` (without opening a browser itself), and signs in at the printed address in Chromium. */
  async function loginInBrowser(user: ReturnType<typeof newCliUser>, idpUser: (typeof SSO_USERS)['alice']) {
    const login = cli.start(user, ['login', '--server', world.server.cp.url, '--sso', '--no-browser']);
    const [, url] = await login.waitFor(/Open this address in a browser on this computer to sign in with single sign-on:\n {2}(\S+)/);
    const context = await world.browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(url);
      await fillIdpLogin(page, idpUser);
      await page
        .getByRole('heading')
        .filter({ hasText: /Signed in to Portcullis|Portcullis sign-in failed/ })
        .waitFor({ timeout: 20_000 });
      const heading = (await page.getByRole('heading').textContent()) ?? '';
      const code = await login.exited();
      return { code, output: login.output(), heading, pageText: (await page.locator('body').textContent()) ?? '' };
    } finally {
      await context.close();
    }
  }

  it('signs in through the browser and the loopback redirect; whoami shows the mapped project', async () => {
    const user = newCliUser('sso-alice');
    const result = await loginInBrowser(user, SSO_USERS.alice);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Signed in to http:\/\/127\.0\.0\.1:\d+ as alice@example\.com\./);
    assert.match(result.output, /browser runs on another machine, stop this and run portcullis login --sso --device/);
    assert.equal(result.heading, 'Signed in to Portcullis');
    assert.match(result.pageText, /You are signed in as alice@example\.com/);
    const whoami = await cli.run(user, ['whoami']);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.match(whoami.stdout, /User: +Alice <alice@example\.com>/);
    assert.match(whoami.stdout, /Projects: +default \(member\)$/m);
  });

  it('is refused, with the reason, once the provider removed the user from their group; the old sign-in stops working', async () => {
    const user = newCliUser('sso-bob');
    const first = await loginInBrowser(user, SSO_USERS.bob);
    assert.equal(first.code, 0, first.output);
    world.idp.setGroups('bob', ['marketing']);
    try {
      const second = await loginInBrowser(newCliUser('sso-bob-2'), SSO_USERS.bob);
      assert.equal(second.code, 2, second.output);
      assert.match(
        second.output,
        /portcullis: the single sign-on was refused: bob@example\.com is in no group that gives access to a Portcullis project \(groups from the identity provider: marketing\)/,
      );
      assert.equal(second.heading, 'Portcullis sign-in failed');
      const whoami = await cli.run(user, ['whoami']);
      assert.equal(whoami.code, 2);
      assert.match(whoami.stderr, /expired, revoked or unknown/);
    } finally {
      world.idp.setGroups('bob', [...SSO_USERS.bob.groups]);
    }
  });

  it('--device: the user finishes in any browser while the CLI waits', async () => {
    const user = newCliUser('sso-device');
    const login = cli.start(user, ['login', '--server', world.server.cp.url, '--sso', '--device']);
    const [, url] = await login.waitFor(/open this address in a browser on any device and sign in:\n {2}(\S+)/);
    const [, userCode] = await login.waitFor(/The page then confirms the code ([B-Z]{4}-[B-Z]{4})\./);
    const context = await world.browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(url);
      await fillIdpLogin(page, SSO_USERS.alice);
      await page.getByText(`You are signed in to Portcullis with the code ${userCode}`).waitFor({ timeout: 20_000 });
    } finally {
      await context.close();
    }
    assert.equal(await login.exited(), 0, login.output());
    assert.match(login.output(), /Signed in to .* as alice@example\.com\./);
    const whoami = await cli.run(user, ['whoami']);
    assert.match(whoami.stdout, /Projects: +default \(member\)$/m);
  });

  it('says so when the server has no single sign-on', async () => {
    const { startApiServer } = await import('./api-harness');
    const plain = await startApiServer('sqlite');
    try {
      const result = await cli.run(newCliUser('sso-none'), ['login', '--server', plain.cp.url, '--sso', '--no-browser']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /has no single sign-on set up; sign in with your email and password \(portcullis login --email EMAIL\)/);
    } finally {
      await plain.close();
    }
  });
});
