/**
 * The VS Code extension in a real VS Code (code-server 4.100.3, installed by test/bed/code-server.ts), driven
 * with Playwright in Debian's Chromium, against a real control plane, gateway agent and FerretDB with SCRAM.
 * The extension is the packaged .vsix (`npm run package`), installed with --install-extension. mongosh in the
 * terminal is the npm one. Each step leaves a screenshot in test-artifacts/extension-ui/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { type GatewayAgent, startGatewayAgent } from '../../gateway/agent/agent';
import { enrollGateway } from '../../gateway/agent/enroll';
import type { SessionDto } from '../../protocol/api';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { ApiClient, collectPages } from '../../proxy-core/api-client';
import { resolveConfig } from '../../server/config';
import { runServer } from '../../server/run-server';
import { type CodeServer, eventually, packageExtension, startCodeServer, textOf, Workbench } from '../bed/code-server';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { MONGOSH_BIN } from '../bed/mongosh';
import { removeTempDir, trackTempDir } from '../bed/processes';

const ROOT = join(__dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'extension-ui');
/** Marks the command typed in the terminal, so the session log can be searched for it. */
const MARKER = `ui-${process.pid}`;
const TOTP_PERIOD_MS = 30_000;

function totpCode(secret: string, at = Date.now()): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: at });
}

/** A six-digit code that is none of the codes valid around now. */
function wrongTotpCode(secret: string): string {
  const near = new Set([-TOTP_PERIOD_MS, 0, TOTP_PERIOD_MS].map((d) => totpCode(secret, Date.now() + d)));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!near.has(candidate)) return candidate;
  }
}

describe('the VS Code extension in a real VS Code', () => {
  let ferret: FerretDBServer;
  let server: Awaited<ReturnType<typeof runServer>>;
  let gateway: GatewayAgent;
  let dataDir: string;
  let admin: ApiClient;
  let projectId: string;
  let credentials: { email: string; password: string };
  let totpSecret: string;
  let totpEnrolledStep: number;
  let codeServer: CodeServer;
  let ui: Workbench;

  before(async () => {
    const vsix = packageExtension();
    ferret = await startFerretDB();
    dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-ui-e2e-')));
    server = await runServer(resolveConfig({ dataDir, listenPort: 0, logger: false }));
    assert.ok(server.bootstrap, 'a fresh server creates its first admin');
    credentials = server.bootstrap;
    admin = new ApiClient({ server: server.url });
    admin.setToken((await admin.login(credentials)).token);
    projectId = (await admin.me()).projects[0].id;
    const { token } = await admin.createEnrollmentToken({ projectId, name: 'dc1' });
    const { credential, gatewayId } = await enrollGateway({ server: server.url, token, name: 'dc1' });
    gateway = await startGatewayAgent({ server: server.url, credential, name: 'dc1' });
    const resource = await admin.createResource(projectId, { name: 'orders', gatewayId, connectionString: ferret.uri, tlsEnabled: false });
    await admin.createAccount(resource.id, { name: 'reader', username: ferret.username, password: ferret.password });
    await admin.createAccount(resource.id, { name: 'guarded', username: ferret.username, password: ferret.password, mfaRequired: true });
    // The signed-in user has an authenticator app, as a user who ran "Set Up Authenticator App" would.
    totpSecret = (await admin.startTotpEnrollment()).secret;
    await admin.confirmTotpEnrollment(totpCode(totpSecret));
    totpEnrolledStep = Math.floor(Date.now() / TOTP_PERIOD_MS);

    codeServer = await startCodeServer({
      vsix: [vsix],
      settings: {
        'portcullis.serverUrl': server.url,
        'portcullis.mongoshPath': MONGOSH_BIN,
        'portcullis.endSessionOnTerminalClose': 'never',
      },
      env: { MONGOSH_NO_UPDATE_CHECK: '1', DO_NOT_TRACK: '1' },
    });
    ui = await Workbench.open(codeServer, ARTIFACTS);
  });

  after(async () => {
    await ui?.close();
    await codeServer?.stop();
    await gateway?.stop();
    await server?.close();
    await ferret?.stop();
    if (dataDir) removeTempDir(dataDir);
  });

  it('signs in from the welcome view, with the password in a masked input box', async () => {
    const { page } = ui;
    await page.locator('.activitybar .action-label[aria-label*="Portcullis"]').click();
    const signIn = ui.pane('Resources').locator('.welcome-view-content a.monaco-button', { hasText: 'Sign In' });
    await signIn.waitFor({ timeout: 60_000 });
    await ui.shot('signed-out-welcome');
    await signIn.click();
    // 1/3: the server address, prefilled from portcullis.serverUrl.
    await eventually('the server prompt', async () => ((await ui.quickInputTitle()).includes('1/3') ? true : undefined));
    assert.equal(await ui.quickInput().inputValue(), server.url);
    await ui.answer('1/3');
    await ui.answer('2/3', credentials.email);
    await eventually('the password prompt', async () => ((await ui.quickInputTitle()).includes('3/3') ? true : undefined));
    assert.equal(await ui.quickInput().getAttribute('type'), 'password');
    await ui.answer('3/3', credentials.password);
    await ui.row('orders').waitFor({ timeout: 30_000 });
    await ui.shot('signed-in-resources');
  });

  it('shows the resource and its account; Access opens mongosh in a terminal, and its command reaches the session log', async () => {
    const { page } = ui;
    await ui.row('orders').click();
    const account = ui.row('reader');
    await account.waitFor();
    await account.hover();
    await ui.shot('resource-expanded');
    await account.locator('.action-label[aria-label="Access"]').click();

    // The terminal is named `<resource> / <account>` and runs mongosh on the local address.
    await page.locator('.terminal-tabs-entry, .single-terminal-tab', { hasText: 'orders / reader' }).first().waitFor({ timeout: 60_000 });
    await eventually(
      'the mongosh prompt in the terminal',
      async () => ((await ui.terminalText()).match(/\S+>\s*$/m) ? true : undefined),
      60_000,
    );
    await ui.shot('mongosh-terminal');
    await ui.terminal().click();
    await page.keyboard.type(`db.getSiblingDB('uitest').probe.find({ marker: '${MARKER}' }).toArray()`);
    await page.keyboard.press('Enter');

    const session = await eventually('an active session on the server', async () => {
      const sessions = await admin.listSessions({ projectId, state: 'active' });
      return sessions.items.find((s) => s.accountName === 'reader');
    });
    assert.match(session.clientAgent ?? '', /portcullis-vscode/);
    const logged = await eventually('the typed command in the session log', async () => {
      const events = await collectPages((cursor) => admin.getSessionLogs(session.id, { cursor }));
      return events.find(
        (e): e is Extract<StoredSessionLogEvent, { kind: 'command' }> =>
          e.kind === 'command' && e.command === 'find' && e.collection === 'probe' && e.input.includes(MARKER),
      );
    });
    assert.equal(logged.database, 'uitest');
    assert.equal(logged.outcome, 'ok');
    await eventually('the account marked active', async () =>
      (await textOf(ui.row('reader'))).includes('session active') ? true : undefined,
    );
    await ui.shot('command-ran');
  });

  it('the status bar counts one session; its list stops it, the user is told, and the server records the stop', async () => {
    const { page } = ui;
    const status = page.locator('.statusbar-item', { hasText: '1 Portcullis session' }).first();
    await status.waitFor();
    await ui.shot('status-bar-one-session');
    await status.click();
    const item = page.locator('.quick-input-list .monaco-list-row', { hasText: 'orders / reader' }).first();
    await item.waitFor();
    await item.hover();
    await ui.shot('session-quick-pick');
    await item.locator('.action-label[aria-label="Stop Session"]').click();

    await ui.notification(/orders \/ reader ended/).waitFor({ timeout: 30_000 });
    await status.waitFor({ state: 'hidden' });
    const ended: SessionDto = await eventually('the session ended on the server', async () => {
      const sessions = await admin.listSessions({ projectId });
      const s = sessions.items.find((x) => x.accountName === 'reader');
      return s && s.state !== 'active' ? s : undefined;
    });
    assert.equal(ended.state, 'ended');
    assert.equal(ended.endReason, 'stopped');
    await ui.shot('session-stopped');
  });

  it('the Sessions view shows the ended session and opens its log, one entry per command', async () => {
    const sessionRow = ui.row('orders / reader', ui.pane('Sessions'));
    await eventually('the ended session in the Sessions view', async () =>
      (await textOf(sessionRow)).includes('ended (stopped)') ? true : undefined,
    );
    const editor = ui.page.locator('.editor-instance .view-lines').first();
    // The view reloads itself every 15 s; a click that lands while its rows are replaced only selects. Click again.
    let clickedAt = 0;
    const text = await eventually('the log document', async () => {
      if (Date.now() - clickedAt > 5000) {
        await sessionRow.click();
        clickedAt = Date.now();
      }
      // The command is near the end of the log: show its last screen.
      await editor.click({ timeout: 2000 });
      await ui.page.keyboard.press('Control+End');
      const shown = await textOf(editor);
      return /Session\s+ended\s+\(stopped\)/.test(shown) && shown.includes('probe') ? shown : undefined;
    });
    assert.match(text, /uitest\.probe\s+find:\s+ok/);
    await ui.shot('session-log');
  });

  it('Access on an account that requires MFA asks for the code, asks again with the reason after a wrong one, then connects', async () => {
    const account = ui.row('guarded');
    await account.hover();
    await account.locator('.action-label[aria-label="Access"]').click();
    await eventually('the MFA prompt', async () =>
      (await ui.quickInputTitle()).includes('verification code for orders / guarded') ? true : undefined,
    );
    await ui.quickInput().fill(wrongTotpCode(totpSecret));
    await ui.quickInput().press('Enter');
    await eventually('the prompt asked again with the reason', async () => {
      const text = await textOf(ui.page.locator('.quick-input-message'));
      return (await ui.quickInput().isVisible()) && /not|invalid|wrong/i.test(text) ? text : undefined;
    });
    await ui.shot('mfa-wrong-code');
    // A code of the enrollment's own time step would be refused as a replay: wait for the next step if needed.
    while (Math.floor(Date.now() / TOTP_PERIOD_MS) === totpEnrolledStep) await new Promise((r) => setTimeout(r, 500));
    await ui.quickInput().fill(totpCode(totpSecret));
    await ui.quickInput().press('Enter');
    const session = await eventually('an active MFA session on the server', async () => {
      const sessions = await admin.listSessions({ projectId, state: 'active' });
      return sessions.items.find((s) => s.accountName === 'guarded');
    });
    assert.equal(session.mfaMethod, 'totp');
    await ui.page
      .locator('.terminal-tabs-entry, .single-terminal-tab', { hasText: 'orders / guarded' })
      .first()
      .waitFor({ timeout: 60_000 });
    await eventually(
      'the mongosh prompt of the MFA session',
      async () => ((await ui.terminalText()).match(/\S+>\s*$/m) ? true : undefined),
      60_000,
    );
    await ui.page.locator('.statusbar-item', { hasText: '1 Portcullis session' }).first().waitFor();
    await ui.shot('mfa-session-terminal');
  });
});
