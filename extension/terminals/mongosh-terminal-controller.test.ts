/**
 * The extension's side of the mongosh terminals, through the composition root and the VS Code mock. Each terminal's
 * wrapper is played by a socket that connects with the key from the terminal's environment, as the real one does
 * (the real wrapper process is tested in mongosh-wrapper.test.ts).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { ApiError } from '../../proxy-core/api-client';
import { type MockTerminal, makeExtensionContext, mock, resetMock, settle } from '../test/vscode-mock';
import { encodeMessage, type FromTerminal, messageReader, type ToTerminal } from './terminal-protocol';

const bin = mkdtempSync(join(tmpdir(), 'portcullis-ext-bin-'));
const mongosh = join(bin, 'mongosh');
writeFileSync(mongosh, '#!/bin/sh\nexit 0\n');
chmodSync(mongosh, 0o755);
after(() => rmSync(bin, { recursive: true, force: true }));

/** Plays a terminal's wrapper process: connects with the terminal's key and records what it is told. */
class FakeWrapper {
  readonly received: ToTerminal[] = [];
  private constructor(private readonly socket: Socket) {}

  static async attach(terminal: MockTerminal): Promise<FakeWrapper> {
    const env = terminal.options.env ?? {};
    const socket = connect(env.PORTCULLIS_TERMINAL_CHANNEL);
    const wrapper = new FakeWrapper(socket);
    socket.on(
      'data',
      messageReader(
        (m) => wrapper.received.push(m as ToTerminal),
        () => {},
      ),
    );
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.write(encodeMessage({ type: 'hello', key: env.PORTCULLIS_TERMINAL_KEY }));
    wrappers.push(wrapper);
    return wrapper;
  }

  send(message: FromTerminal): void {
    this.socket.write(encodeMessage(message));
  }

  async next<T extends ToTerminal['type']>(type: T, after = 0): Promise<Extract<ToTerminal, { type: T }>> {
    return until(`a "${type}" message`, () =>
      this.received.slice(after).find((m): m is Extract<ToTerminal, { type: T }> => m.type === type),
    );
  }

  close(): void {
    this.socket.destroy();
  }
}
const wrappers: FakeWrapper[] = [];

async function until<T>(what: string, check: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function setUp(options: { role?: 'admin' | 'member'; mfaCode?: string } = {}) {
  resetMock();
  mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:1');
  mock.configuration.set('portcullis.mongoshPath', mongosh);
  mock.configuration.set('portcullis.endSessionOnTerminalClose', 'never');
  const { PortcullisController } = await import('../portcullis-controller');
  const { FakeApi, fakeStartAccess, accountDto, resourceDto, meDto } = await import('../test/fixtures');
  const api = new FakeApi('http://127.0.0.1:1');
  api.me_ = meDto(options.role ?? 'member');
  const access = fakeStartAccess({ mfaCode: options.mfaCode });
  const context = makeExtensionContext();
  context.storedSecrets.set('portcullis.token:http://127.0.0.1:1', 'tok_secret');
  const controller = new PortcullisController(context as never, { startAccess: access.start, createClient: () => api as never });
  await controller.activate();
  controllers.push(controller);
  const { AccountTreeItem } = await import('../explorer/account-tree-item');
  const item = new AccountTreeItem(accountDto(), resourceDto(), undefined, options.role === 'admin');
  return { controller, api, access, item };
}
const controllers: Array<{ deactivate(): Promise<void>; terminals: { dispose(): void } }> = [];

afterEach(async () => {
  for (const w of wrappers.splice(0)) w.close();
  for (const c of controllers.splice(0)) {
    await c.deactivate();
    c.terminals.dispose();
  }
});

function failedConnection(sessionId: string, seq: number, message: string): StoredSessionLogEvent {
  return { sessionId, seq, kind: 'connection', phase: 'failed', time: new Date().toISOString(), connectionId: 'c1', message };
}

const REASON =
  'Portcullis gateway could not authenticate to portcullis:orders-db as reader (SCRAM-SHA-256, auth database admin): Authentication failed. ' +
  "Check the account's stored password.";

describe('mongosh terminals', () => {
  beforeEach(() => resetMock());

  it('run the wrapper with the editor’s Node.js, named "mongosh · resource / account", and start mongosh on the local address', async () => {
    const { item } = await setUp();
    await mock.commands.get('portcullis.access')!(item);
    assert.equal(mock.terminals.length, 1);
    const terminal = mock.terminals[0];
    assert.equal(terminal.name, 'mongosh · orders-db / reader');
    assert.equal(terminal.options.shellPath, process.execPath);
    assert.match(terminal.options.shellArgs?.[0] ?? '', /mongosh-terminal\.js$/);
    assert.equal(terminal.options.env?.ELECTRON_RUN_AS_NODE, '1');
    assert.equal(terminal.options.isTransient, true);
    assert.ok(terminal.shown);
    const wrapper = await FakeWrapper.attach(terminal);
    const start = await wrapper.next('start');
    assert.equal(start.command, mongosh);
    assert.deepEqual(start.args, ['mongodb://127.0.0.1:27999/']);
    assert.match(start.banner, /session ses_1 on orders-db \/ reader/);
  });

  it('a key the extension did not hand out gets nothing', async () => {
    const { item } = await setUp();
    await mock.commands.get('portcullis.access')!(item);
    const terminal = mock.terminals[0];
    const stranger: MockTerminal = {
      ...terminal,
      options: { ...terminal.options, env: { ...terminal.options.env!, PORTCULLIS_TERMINAL_KEY: 'guess' } },
    };
    const wrapper = await FakeWrapper.attach(stranger);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(wrapper.received, []);
  });

  it('Access on an account with a running session shows its terminal instead of opening another; Open mongosh names a second one distinctly', async () => {
    const { access, item } = await setUp();
    await mock.commands.get('portcullis.access')!(item);
    mock.terminals[0].shown = false;
    await mock.commands.get('portcullis.access')!(item);
    assert.equal(access.started.length, 1);
    assert.equal(mock.terminals.length, 1, 'no second terminal of the same name');
    assert.ok(mock.terminals[0].shown, 'the existing terminal is shown');
    await mock.commands.get('portcullis.openMongosh')!();
    assert.deepEqual(
      mock.terminals.map((t) => t.name),
      ['mongosh · orders-db / reader', 'mongosh · orders-db / reader (2)'],
    );
  });

  for (const [reason, expected] of [
    ['stopped', /The session on orders-db \/ reader was stopped\./],
    ['expired', /reached its end time/],
    ['terminated', /An administrator terminated the session on orders-db \/ reader\./],
    ['gateway_offline', /The gateway that reaches orders-db \/ reader went offline, so the session ended\./],
    ['network_lost', /The Portcullis server could not be reached/],
  ] as const) {
    it(`when the session ends (${reason}), the terminal says why and offers Reconnect`, async () => {
      const { access, controller, item } = await setUp();
      await mock.commands.get('portcullis.access')!(item);
      const wrapper = await FakeWrapper.attach(mock.terminals[0]);
      await wrapper.next('start');
      if (reason === 'stopped') await controller.access.stop(controller.book.list()[0]);
      else access.started[0].handle.end({ reason, message: 'x' });
      const ended = await wrapper.next('ended');
      assert.match(ended.headline, expected);
      assert.ok(ended.lines.length > 0, 'and what to do');
      assert.equal(ended.offer, 'reconnect');
    });
  }

  it('Sign Out: the terminal says the user signed out and how to come back', async () => {
    const { item } = await setUp();
    await mock.commands.get('portcullis.access')!(item);
    const wrapper = await FakeWrapper.attach(mock.terminals[0]);
    await wrapper.next('start');
    mock.messageAnswers.push('Sign Out'); // the question Sign Out asks while sessions run
    await mock.commands.get('portcullis.signOut')!();
    const ended = await wrapper.next('ended');
    assert.match(ended.headline, /You signed out of Portcullis, which ended the session on orders-db \/ reader\./);
    assert.match(ended.lines.join(' '), /Sign in again/);
  });

  it('Reconnect (R) starts a new session and runs mongosh on it in the same terminal', async () => {
    const { access, controller, item } = await setUp();
    await mock.commands.get('portcullis.access')!(item);
    const wrapper = await FakeWrapper.attach(mock.terminals[0]);
    await wrapper.next('start');
    access.started[0].handle.end({ reason: 'expired', message: 'the session reached its end time' });
    await wrapper.next('ended');
    const before = wrapper.received.length;
    wrapper.send({ type: 'retry' });
    const start = await wrapper.next('start', before);
    assert.equal(access.started.length, 2, 'a new session');
    assert.match(start.banner, /new session ses_2/);
    assert.equal(mock.terminals.length, 1, 'in the same terminal');
    assert.equal(controller.book.list()[0].id, 'ses_2');
    assert.ok(controller.book.findByTerminal(mock.terminals[0]), 'the terminal belongs to the new session');
  });

  it('Reconnect that fails says why in the terminal and offers it again', async () => {
    const { access, controller, api, item } = await setUp();
    await mock.commands.get('portcullis.access')!(item);
    const wrapper = await FakeWrapper.attach(mock.terminals[0]);
    await wrapper.next('start');
    access.started[0].handle.end({ reason: 'gateway_offline', message: 'x' });
    await wrapper.next('ended');
    // Signed out meanwhile (elsewhere): the new session cannot start.
    api.token = 'expired';
    await controller.connection.signOut();
    wrapper.send({ type: 'retry' });
    const notice = await until('the failure notice', () =>
      wrapper.received.find((m): m is Extract<ToTerminal, { type: 'notice' }> => m.type === 'notice' && m.offer === 'reconnect'),
    );
    assert.match(notice.text, /Could not start a new session: you are not signed in/);
  });

  it('when mongosh exits early, the terminal and a notification give the gateway’s reason; members get no Edit Account', async () => {
    const { api, access, item } = await setUp();
    await mock.commands.get('portcullis.access')!(item);
    const wrapper = await FakeWrapper.attach(mock.terminals[0]);
    await wrapper.next('start');
    api.logs.push(failedConnection('ses_1', 7, REASON));
    wrapper.send({ type: 'exited', code: 1, signal: null });
    const failed = await wrapper.next('failed');
    assert.equal(failed.headline, 'mongosh could not connect to orders-db / reader.');
    assert.equal(failed.lines[0], REASON);
    assert.equal(failed.offer, 'retry');
    const toast = await until('the notification', () => mock.messages.find((m) => /mongosh could not connect/.test(m.text)));
    assert.equal(toast.severity, 'error');
    assert.equal(toast.text, `mongosh could not connect to orders-db / reader: ${REASON}`);
    assert.deepEqual(toast.items, ['Open Session Log', 'End Session']);
    assert.equal(access.started[0].handle.stopped, 0, 'the session stays until the user ends it');
  });

  it('the early-exit notification: End Session ends it, Edit Account (admins) opens the account editor, Open Session Log the log', async () => {
    const { api, access, controller, item } = await setUp({ role: 'admin' });
    const { sessionDto } = await import('../test/fixtures');
    api.sessions.push(sessionDto({ id: 'ses_1' }));
    await mock.commands.get('portcullis.access')!(item);
    const wrapper = await FakeWrapper.attach(mock.terminals[0]);
    await wrapper.next('start');

    api.logs.push(failedConnection('ses_1', 3, REASON));
    mock.messageAnswers.push('Open Session Log');
    wrapper.send({ type: 'exited', code: 1, signal: null });
    await until('the log opened', () => mock.documents.find((d) => d.uri.toString().includes('ses_1')));
    const toast = mock.messages.find((m) => /mongosh could not connect/.test(m.text));
    assert.deepEqual(toast?.items, ['Open Session Log', 'Edit Account', 'End Session']);

    // Access starts mongosh again in the same terminal; it fails again, and this time the admin edits the account.
    let before = wrapper.received.length;
    await mock.commands.get('portcullis.access')!(item);
    await wrapper.next('start', before);
    api.logs.push(failedConnection('ses_1', 9, REASON));
    mock.messageAnswers.push('Edit Account');
    mock.quickPickAnswers.push(() => undefined);
    wrapper.send({ type: 'exited', code: 1, signal: null });
    await until('the account editor', () => api.calls.find((c) => c.method === 'getAccount'));
    await settle();
    assert.equal(mock.quickPickAnswers.length, 0, 'Edit Account asked what to change');

    before = wrapper.received.length;
    wrapper.send({ type: 'retry' });
    await wrapper.next('start', before);
    api.logs.push(failedConnection('ses_1', 11, REASON));
    mock.messageAnswers.push('End Session');
    wrapper.send({ type: 'exited', code: 1, signal: null });
    await until('the session ended', () => (access.started[0].handle.stopped === 1 ? true : undefined));
    assert.equal(controller.book.size, 0);
    const ended = await wrapper.next('ended');
    assert.match(ended.headline, /was stopped/);
  });

  it('an old failure is not given as the reason of a later exit; without one the terminal says mongosh exited', async () => {
    const { api, controller, item } = await setUp();
    // No reason is coming: look for it briefly.
    Object.assign(controller.terminals, { reasonLookup: { attempts: 3, intervalMs: 20 } });
    await mock.commands.get('portcullis.access')!(item);
    const wrapper = await FakeWrapper.attach(mock.terminals[0]);
    await wrapper.next('start');
    api.logs.push(failedConnection('ses_1', 2, REASON));
    wrapper.send({ type: 'exited', code: 1, signal: null });
    await wrapper.next('failed');
    const before = wrapper.received.length;
    wrapper.send({ type: 'retry' });
    await wrapper.next('start', before);
    mock.messages.length = 0;
    wrapper.send({ type: 'exited', code: 2, signal: null });
    const failed = await wrapper.next('failed', before);
    assert.equal(failed.headline, 'mongosh exited with code 2.');
    assert.deepEqual(mock.messages, [], 'no notification without the gateway’s reason');
  });

  it('mongosh exiting normally is not a failure', async () => {
    const { api, item } = await setUp();
    await mock.commands.get('portcullis.access')!(item);
    const wrapper = await FakeWrapper.attach(mock.terminals[0]);
    await wrapper.next('start');
    wrapper.send({ type: 'exited', code: 0, signal: null });
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(!api.calls.some((c) => c.method === 'getSessionLogs'));
    assert.ok(!wrapper.received.some((m) => m.type === 'failed'));
  });
});

describe('errors that need an authenticator app', () => {
  beforeEach(() => resetMock());

  it('Access offers "Set Up Authenticator App" (which runs the set-up), in the extension’s words rather than the CLI’s', async () => {
    const { controller, item, access } = await setUp();
    const serverMessage =
      'this project requires an authenticator app (TOTP) for MFA and you have not set one up: run `portcullis mfa enroll totp` ' +
      '(or "Portcullis: Set Up Authenticator App" in VS Code), then request access again';
    const original = access.start;
    (controller.access as unknown as { startAccess: typeof original }).startAccess = async () => {
      throw new ApiError(400, 'mfa_not_configured', serverMessage);
    };
    mock.messageAnswers.push('Set Up Authenticator App');
    await mock.commands.get('portcullis.access')!(item);
    const error = mock.messages.find((m) => m.severity === 'error');
    assert.equal(error?.text, 'Portcullis: orders-db / reader needs a code from an authenticator app, and you have not set one up');
    assert.deepEqual(error?.items, ['Set Up Authenticator App']);
    assert.doesNotMatch(error?.text ?? '', /portcullis mfa/);
    mock.inputAnswers.push(undefined);
    await until('the set-up', () => mock.webviewPanels[0]);
    assert.equal(mock.webviewPanels[0].title, 'Set Up Authenticator App');
  });
});
