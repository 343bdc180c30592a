/**
 * Issue 12: a data stream refused (404) before the session's credentials arrived was an unhandled rejection, and
 * the gateway process exited, taking every session with it. Here the real `portcullis gateway start`, serving a
 * real FerretDB, runs against a control plane that fails each step of opening a stream in turn: the data stream
 * answered 404 or 503, closed without an answer, or reset after its 101, before and after the credentials
 * arrive; the credentials denied, or the control channel dropped before they arrive, with the data stream pending
 * or accepted; the channel's reconnection answered 503 and 404. After each, the same gateway process must still
 * run, a connection opened at the start must still answer, and a new session must be served.
 *
 * The control plane is scripted (scripted-control-plane.ts says why the real one cannot fail in these orders).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeCredentialFile } from '../../gateway/agent/credential-file';
import { replyBody, targetFor } from '../../gateway/test/harness';
import { MessageFramer } from '../../gateway/wire/framer';
import { parseMessage } from '../../gateway/wire/message';
import { encodeOpMsg } from '../../gateway/wire/op-msg';
import type { GatewayToServer } from '../../protocol/gateway-channel';
import type { MongoTarget } from '../../protocol/target';
import { type FerretDBServer, startFerretDB } from '../bed/ferretdb';
import { buildCli, CliRunner, newCliUser, type RunningCli, removeBuild } from '../e2e/cli-harness';
import { ScriptedControlPlane, type StreamRequest } from '../e2e/scripted-control-plane';

const MAX_MESSAGE = 48_000_000;
/** A hang fails its own test instead of stalling the run. */
const EACH = { timeout: 60_000 };

type StreamFailed = Extract<GatewayToServer, { type: 'stream.failed' }>;
type CredentialsRequest = Extract<GatewayToServer, { type: 'credentials.request' }>;

const isStreamFailed =
  (streamId: string) =>
  (m: GatewayToServer): m is StreamFailed =>
    m.type === 'stream.failed' && m.streamId === streamId;
const isCredentialsRequest =
  (sessionId: string) =>
  (m: GatewayToServer): m is CredentialsRequest =>
    m.type === 'credentials.request' && m.sessionId === sessionId;

let counter = 0;
function ids(label: string): { sessionId: string; streamId: string } {
  counter++;
  return { sessionId: `ses_${label}_${counter}`, streamId: `str_${label}_${counter}_${randomBytes(3).toString('hex')}` };
}

/** Sends `ping` on a served data stream and resolves with the reply's `ok`. */
function ping(socket: Socket, timeoutMs = 15_000): Promise<unknown> {
  const framer = new MessageFramer({ maxMessageSize: MAX_MESSAGE });
  return new Promise((resolve, reject) => {
    const done = (finish: () => void) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      finish();
    };
    const onData = (chunk: Buffer) => {
      const [message] = framer.push(chunk);
      if (message) done(() => resolve(replyBody(parseMessage(message, { maxMessageSize: MAX_MESSAGE })).ok));
    };
    const onClose = () => done(() => reject(new Error('the data stream closed without a reply')));
    const timer = setTimeout(() => done(() => reject(new Error('no reply to ping in time'))), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write(encodeOpMsg({ requestId: ++counter, body: { ping: 1, $db: 'admin' } }));
  });
}

const both = (told: RegExp) => ({ before: told, after: told });
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the gateway keeps running when the control plane fails a step of opening a stream', () => {
  let ferret: FerretDBServer;
  let target: MongoTarget;
  let cp: ScriptedControlPlane;
  let bundle: string;
  let gateway: RunningCli;
  let pid: number | undefined;
  /** A connection served since the start: it must outlive every failure below. */
  let longLived: Socket;

  /** Why waiting makes no sense any more: the gateway process has exited. */
  const exited = () =>
    gateway.child.exitCode !== null || gateway.child.signalCode !== null
      ? `the gateway exited (${gateway.child.exitCode ?? gateway.child.signalCode}):\n${gateway.output()}`
      : undefined;

  /** Sends on the control channel; says so when the gateway has exited (rather than that it is not connected). */
  const send = (message: Parameters<ScriptedControlPlane['send']>[0]) => {
    const reason = exited();
    if (reason) assert.fail(reason);
    cp.send(message);
  };

  /** A new session whose first stream is accepted and served; resolves with its data stream. */
  const servedStream = async (label: string): Promise<Socket> => {
    const { sessionId, streamId } = ids(label);
    let accepted: Socket | undefined;
    cp.autoCredentials.set(sessionId, target);
    cp.autoAccept.set(streamId, (socket) => {
      socket.on('error', () => {});
      accepted = socket;
    });
    send({ type: 'stream.open', streamId, sessionId });
    const raw = await cp.until(() => accepted, `the data stream of ${sessionId}`, { unless: exited });
    // Inside the stream, the TLS every client speaks with the gateway (end-to-end encryption).
    const secure = await cp.encrypt(raw, sessionId);
    secure.on('error', () => {});
    return secure;
  };

  /** The same process runs, the first connection answers, and a new session is served. */
  const assertStillServing = async () => {
    assert.equal(exited(), undefined);
    assert.equal(gateway.child.pid, pid);
    assert.equal(await ping(longLived), 1, 'the connection opened at the start still answers');
    const fresh = await servedStream('fresh');
    try {
      assert.equal(await ping(fresh), 1, 'a new session is served');
    } finally {
      fresh.destroy();
    }
    assert.equal(exited(), undefined);
  };

  /** The gateway's credentials request for `sessionId` and the way to answer it. */
  const credentialsOf = async (sessionId: string, since: number) => {
    const request = await cp.message(isCredentialsRequest(sessionId), `the credentials request of ${sessionId}`, { since, unless: exited });
    // The session's certificate, so that a grant carries its pins.
    await cp.tunnelOf(sessionId);
    return {
      grant: () =>
        send({
          type: 'credentials',
          requestId: request.requestId,
          sessionId,
          target,
          expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        }),
      deny: () =>
        send({ type: 'credentials.denied', requestId: request.requestId, sessionId, message: 'the session is not active (ended)' }),
    };
  };

  before(async () => {
    ferret = await startFerretDB();
    target = targetFor(ferret, { resourceName: 'ferret' });
    cp = await ScriptedControlPlane.start();
    bundle = await buildCli();
    const user = newCliUser('gateway-failures');
    const credentialFile = join(user.configDir, 'gateway-credential.json');
    writeCredentialFile(credentialFile, { server: cp.url, gatewayId: 'gw_scripted', credential: cp.credential });
    gateway = new CliRunner(bundle).start(user, ['gateway', 'start', '--credential-file', credentialFile]);
    await gateway.waitFor(/is running \(online\)/);
    pid = gateway.child.pid;
    longLived = await servedStream('long-lived');
    assert.equal(await ping(longLived), 1);
  });

  after(async () => {
    longLived?.destroy();
    await gateway?.stop();
    await cp?.close();
    await ferret?.stop();
    if (bundle) removeBuild(bundle);
  });

  /** `told`: what the gateway tells the control plane (stream.failed), by whether the credentials came first. */
  const STREAM_FAILURES: Array<{ name: string; fail(request: StreamRequest): void; told: { before: RegExp; after: RegExp | null } }> = [
    { name: 'is answered 404', fail: (r) => r.refuse(404), told: both(/^could not open the data stream: .*\(HTTP 404\)$/) },
    { name: 'is answered 503', fail: (r) => r.refuse(503), told: both(/^could not open the data stream: .*\(HTTP 503\)$/) },
    { name: 'closes without an answer', fail: (r) => r.close(), told: both(/^could not open the data stream: socket hang up$/) },
    // With the credentials in first, an accepted stream is served at once: its reset just ends that connection.
    {
      name: 'is reset after its 101',
      fail: (r) => r.acceptThenReset(),
      told: { before: /^the data stream closed before it could be served$/, after: null },
    },
  ];

  for (const failure of STREAM_FAILURES) {
    for (const credentialsFirst of [false, true]) {
      it(`the data stream ${failure.name} ${credentialsFirst ? 'after' : 'before'} the credentials arrive`, EACH, async () => {
        const { sessionId, streamId } = ids('stream');
        const since = cp.messages.length;
        send({ type: 'stream.open', streamId, sessionId });
        const request = await cp.streamRequest(streamId, { unless: exited });
        const credentials = await credentialsOf(sessionId, since);
        if (credentialsFirst) {
          credentials.grant();
          await delay(200); // the credentials travel on another connection: let them arrive first
          failure.fail(request);
        } else {
          failure.fail(request);
          await cp.until(() => (request.gone ? true : undefined), 'the data stream to close', { unless: exited });
          await delay(200); // the gateway has read the answer (an unhandled rejection ended it here)
          credentials.grant();
        }
        const told = credentialsFirst ? failure.told.after : failure.told.before;
        if (told) {
          const failed = await cp.message(isStreamFailed(streamId), `stream.failed for ${streamId}`, { since, unless: exited });
          assert.match(failed.message, told);
        }
        await assertStillServing();
      });
    }
  }

  for (const streamState of ['pending', 'accepted'] as const) {
    it(`the credentials are denied while the data stream is ${streamState}`, EACH, async () => {
      const { sessionId, streamId } = ids('denied');
      const since = cp.messages.length;
      send({ type: 'stream.open', streamId, sessionId });
      const request = await cp.streamRequest(streamId, { unless: exited });
      if (streamState === 'accepted') request.accept();
      (await credentialsOf(sessionId, since)).deny();
      const failed = await cp.message(isStreamFailed(streamId), `stream.failed for ${streamId}`, { since, unless: exited });
      assert.equal(failed.message, 'the session is not active (ended)');
      if (streamState === 'pending') request.accept();
      // The gateway closes a stream it will not serve.
      await cp.until(() => (request.gone ? true : undefined), 'the gateway to close the stream', { unless: exited });
      await assertStillServing();
    });

    it(`the control channel drops before the credentials arrive, with the data stream ${streamState}`, EACH, async () => {
      const { sessionId, streamId } = ids('dropped');
      const since = cp.messages.length;
      const connections = cp.channelConnections;
      send({ type: 'stream.open', streamId, sessionId });
      const request = await cp.streamRequest(streamId, { unless: exited });
      if (streamState === 'accepted') request.accept();
      await credentialsOf(sessionId, since);
      cp.dropChannel();
      if (streamState === 'pending') {
        await delay(200);
        request.accept();
      }
      // Not after the 10 s credentials timeout: an answer on the dropped channel can never come.
      await cp.until(() => (request.gone ? true : undefined), 'the gateway to close the stream', {
        unless: exited,
        timeoutMs: 5_000,
      });
      await cp.until(() => (cp.channelConnections > connections && cp.channelOpen ? true : undefined), 'the gateway to reconnect', {
        unless: exited,
      });
      await assertStillServing();
    });
  }

  it("the control channel's reconnection is answered 503, then 404, then accepted", EACH, async () => {
    const connections = cp.channelConnections;
    cp.refuseChannelWith.push(503, 404);
    cp.dropChannel();
    await cp.until(() => (cp.channelConnections > connections && cp.channelOpen ? true : undefined), 'the gateway to reconnect', {
      unless: exited,
    });
    assert.equal(cp.refuseChannelWith.length, 0, 'both refusals were met');
    await assertStillServing();
    assert.match(gateway.output(), /refused the control channel: refused by the test \(503\)/);
  });
});
