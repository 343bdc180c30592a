import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock as nodeMock } from 'node:test';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { closeDocument, makeExtensionContext, mock, resetMock, settle } from '../test/vscode-mock';

const OFFLINE =
  'could not reach the Portcullis server at http://127.0.0.1:1 (ECONNREFUSED); check the address and that the server is running';

async function signedIn() {
  resetMock();
  mock.configuration.set('portcullis.serverUrl', 'http://127.0.0.1:1');
  const { PortcullisController } = await import('../portcullis-controller');
  const fixtures = await import('../test/fixtures');
  const { ApiError } = await import('../../proxy-core/api-client');
  const api = new fixtures.FakeApi('http://127.0.0.1:1');
  const context = makeExtensionContext();
  context.storedSecrets.set('portcullis.token:http://127.0.0.1:1', 'tok_secret');
  const controller = new PortcullisController(context as never, {
    startAccess: fixtures.fakeStartAccess().start,
    createClient: () => api as never,
  });
  await controller.activate();
  const session = fixtures.sessionDto({
    startedAt: new Date(Date.now() - 10_000).toISOString(),
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
  });
  api.sessions = [session];
  const find = (seq: number, marker: string): StoredSessionLogEvent => ({
    kind: 'command',
    sessionId: session.id,
    seq,
    time: new Date().toISOString(),
    connectionId: 'c1',
    database: 'shop',
    command: 'find',
    collection: 'orders',
    input: JSON.stringify({ find: 'orders', filter: { marker } }),
    outcome: 'ok',
    documents: 1,
    durationMs: 2,
  });
  const open = async () => {
    const [item] = await controller.sessionsTree.getChildren();
    await mock.commands.get('portcullis.openSessionLog')!(item);
    await settle();
    return mock.documents.find((d) => !d.closed)!;
  };
  const fetches = () => api.calls.filter((c) => c.method === 'getSessionLogs').length;
  const offline = () => new ApiError(0, 'network_error', OFFLINE);
  return { controller, api, session, find, open, fetches, offline };
}

/** Lets the fake clock run `ms`, with the promise chains each timer starts. */
async function elapse(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 500) {
    nodeMock.timers.tick(500);
    await settle();
  }
}

describe('live session logs', () => {
  beforeEach(() => nodeMock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => nodeMock.timers.reset());

  it('an open log follows its running session every 2 s, then shows the final state and stops asking', async () => {
    const { controller, api, session, find, open, fetches } = await signedIn();
    const document = await open();
    assert.match(document.text, /^State: {4}active \(this log follows it, every 2 s\)$/m);
    assert.match(document.text, /No commands recorded yet\./);

    api.logs.push(find(1, 'first'));
    await elapse(2000);
    assert.match(document.text, /shop\.orders {2}find: ok, 1 document, 2 ms\n {5}\{"find":"orders","filter":\{"marker":"first"\}\}/);
    api.logs.push(find(2, 'second'));
    await elapse(2000);
    assert.match(document.text, /"marker":"second"/);

    Object.assign(session, {
      state: 'ended',
      endReason: 'stopped',
      endedAt: new Date().toISOString(),
      durationSeconds: 14,
      commands: 2,
      connections: 1,
    });
    await elapse(2000);
    assert.match(document.text, /^State: {4}ended \(stopped\)$/m);
    assert.match(document.text, /\nSession ended \(stopped\) at .* after 14s: 2 commands on 1 connection\.\n$/);
    assert.equal(controller.logs.following, 0);
    const after = fetches();
    await elapse(10_000);
    assert.equal(fetches(), after, 'an ended session’s log is not asked for again');
  });

  it('clicking the session again shows fresh content, also for an ended session VS Code still holds', async () => {
    const { api, session, find, open } = await signedIn();
    Object.assign(session, { state: 'ended', endReason: 'stopped', endedAt: new Date().toISOString() });
    const document = await open();
    assert.match(document.text, /No commands were recorded\./);
    // Uploaded late (the gateway was catching up): the next click shows it.
    api.logs.push(find(1, 'late'));
    const again = await open();
    assert.equal(again, document, 'VS Code hands back the open document');
    assert.match(document.text, /"marker":"late"/);
  });

  it('stops following when the log’s tab closes, and starts again when it is opened anew', async () => {
    const { controller, open, fetches } = await signedIn();
    const document = await open();
    assert.equal(controller.logs.following, 1);
    closeDocument(document.uri);
    await settle();
    const after = fetches();
    await elapse(6000);
    assert.equal(fetches(), after);
    assert.equal(controller.logs.following, 0);
    await open();
    assert.equal(controller.logs.following, 1);
  });

  it('keeps the content while the control plane is away, marked as reconnecting, and refreshes once it is back', async () => {
    const { controller, api, find, open, offline } = await signedIn();
    const document = await open();
    api.logs.push(find(1, 'before'));
    await elapse(2000);
    api.failWith = offline();
    await elapse(2000);
    assert.match(document.text, /^Offline: {2}reconnecting: shown as of \d\d:\d\d:\d\d; the server could not be reached/m);
    assert.match(document.text, /"marker":"before"/, 'what was shown stays');
    assert.equal(controller.reachability.reconnecting, true);
    api.failWith = undefined;
    api.logs.push(find(2, 'after'));
    await elapse(2000);
    assert.equal(controller.reachability.reconnecting, false);
    assert.doesNotMatch(document.text, /^Offline:/m);
    assert.match(document.text, /"marker":"after"/);
  });
});
