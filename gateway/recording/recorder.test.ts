import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Long } from 'bson';
import type { CommandEvent } from '../../protocol/session-log';
import { readCommand } from '../wire/command-identity';
import { OP_MSG_FLAGS } from '../wire/constants';
import { encodeOpMsg } from '../wire/op-msg';
import { encodeOpQuery } from '../wire/op-query';
import { encodeOpReply } from '../wire/op-reply';
import { CommandRecorder } from './recorder';
import { commandBytes, encodeElement, identify, opMsg } from './test-messages';

function setup(extra: Partial<ConstructorParameters<typeof CommandRecorder>[0]> = {}) {
  const events: CommandEvent[] = [];
  let clock = 1000;
  const recorder = new CommandRecorder({
    maskPatterns: [],
    maxEventBytes: 8192,
    connectionId: 'conn-1',
    onEvent: (e) => events.push(e),
    now: () => clock,
    wallClock: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    ...extra,
  });
  const request = (requestId: number, body: object, flags = 0, sequences?: { identifier: string; documents: object[] }[]) => {
    const raw = encodeOpMsg({ requestId, flags, body, sequences });
    recorder.onRequest(raw, readCommand(raw));
  };
  const reply = (requestId: number, responseTo: number, body: object, flags = 0) =>
    recorder.onReply(encodeOpMsg({ requestId, responseTo, flags, body }));
  return { events, recorder, request, reply, advance: (ms: number) => (clock += ms) };
}

describe('CommandRecorder', () => {
  it('emits one event per command, matching the reply by responseTo, with its duration', () => {
    const { events, request, reply, advance } = setup();
    request(10, { find: 'items', filter: { a: 1 }, $db: 'shop' });
    request(11, { insert: 'items', $db: 'shop' }, 0, [{ identifier: 'documents', documents: [{ a: 1 }, { a: 2 }] }]);
    advance(2.5);
    reply(500, 11, { n: 2, ok: 1 });
    advance(1);
    reply(501, 10, { cursor: { firstBatch: [{ a: 1 }], id: Long.ZERO, ns: 'shop.items' }, ok: 1 });
    assert.deepEqual(events, [
      {
        kind: 'command',
        time: '2026-01-02T03:04:05.000Z',
        connectionId: 'conn-1',
        database: 'shop',
        command: 'insert',
        collection: 'items',
        input: '{"insert":"items","documents":"<2 documents>"}',
        outcome: 'ok',
        durationMs: 2.5,
        affected: 2,
      },
      {
        kind: 'command',
        time: '2026-01-02T03:04:05.000Z',
        connectionId: 'conn-1',
        database: 'shop',
        command: 'find',
        collection: 'items',
        input: '{"find":"items","filter":{"a":1}}',
        outcome: 'ok',
        durationMs: 3.5,
        documents: 1,
      },
    ]);
  });

  it('records errors with code, name and message', () => {
    const { events, request, reply } = setup();
    request(1, { frobnicate: 1, $db: 'admin' });
    reply(2, 1, { ok: 0, errmsg: 'no such command: frobnicate', code: 59, codeName: 'CommandNotFound' });
    assert.equal(events.length, 1);
    assert.equal(events[0].outcome, 'error');
    assert.equal(events[0].errorCode, 59);
    assert.equal(events[0].errorName, 'CommandNotFound');
    assert.equal(events[0].errorMessage, 'no such command: frobnicate');
  });

  it('counts handshake commands without logging them', () => {
    const { events, recorder, request, reply } = setup();
    request(1, { hello: 1, $db: 'admin' });
    reply(2, 1, { isWritablePrimary: true, ok: 1 });
    request(3, { ping: 1, $db: 'admin' });
    reply(4, 3, { ok: 1 });
    const legacy = encodeOpQuery({ requestId: 5, fullCollectionName: 'admin.$cmd', query: { isMaster: 1 } });
    recorder.onRequest(legacy, readCommand(legacy));
    recorder.onReply(encodeOpReply({ requestId: 6, responseTo: 5, documents: [{ ismaster: true, ok: 1 }] }));
    request(7, { count: 'c', $db: 'a' });
    reply(8, 7, { n: 12, ok: 1 });
    assert.equal(events.length, 1);
    assert.equal(events[0].command, 'count');
    assert.equal(events[0].affected, undefined, 'a count result is not a number of documents written');
    assert.deepEqual(recorder.counts(), { commands: 4, handshakeCommands: 3 });
  });

  it('records a moreToCome request at once with outcome ok and no documents', () => {
    const { events, request } = setup();
    request(1, { insert: 'logs', writeConcern: { w: 0 }, $db: 'app' }, OP_MSG_FLAGS.moreToCome, [
      { identifier: 'documents', documents: [{ m: 'x' }] },
    ]);
    assert.equal(events.length, 1);
    assert.equal(events[0].outcome, 'ok');
    assert.equal(events[0].documents, undefined);
    assert.equal(events[0].durationMs, 0);
  });

  it('follows an exhaust stream: replies chained by requestId belong to one command, documents summed', () => {
    const { events, request, reply } = setup();
    request(1, { getMore: Long.fromNumber(9), collection: 'c', $db: 'a' }, OP_MSG_FLAGS.exhaustAllowed);
    reply(100, 1, { cursor: { nextBatch: [{}, {}], id: Long.fromNumber(9), ns: 'a.c' }, ok: 1 }, OP_MSG_FLAGS.moreToCome);
    reply(101, 100, { cursor: { nextBatch: [{}, {}, {}], id: Long.fromNumber(9), ns: 'a.c' }, ok: 1 }, OP_MSG_FLAGS.moreToCome);
    assert.equal(events.length, 0);
    reply(102, 101, { cursor: { nextBatch: [{}], id: Long.ZERO, ns: 'a.c' }, ok: 1 });
    assert.equal(events.length, 1);
    assert.equal(events[0].documents, 6);
    assert.equal(events[0].collection, 'c');
  });

  it('keeps the whole event within maxEventBytes, cutting the input', () => {
    const { events, request, reply } = setup({ maxEventBytes: 2048 });
    request(1, { find: 'c', filter: { big: 'z'.repeat(10_000) }, $db: 'a' });
    reply(2, 1, { ok: 0, errmsg: 'm'.repeat(5000), code: 2, codeName: 'BadValue' });
    const event = events[0];
    assert.equal(event.truncated, true);
    assert.match(event.input, /…\[truncated \d+ bytes\]$/);
    assert.ok(Buffer.byteLength(JSON.stringify(event)) <= 2048, `${Buffer.byteLength(JSON.stringify(event))} bytes`);
  });

  it('flushes unanswered commands with outcome unknown and ignores replies it did not see a request for', () => {
    const { events, recorder, request, reply } = setup();
    reply(9, 12345, { ok: 1 });
    request(1, { find: 'c', $db: 'a' });
    recorder.flush();
    assert.equal(events.length, 1);
    assert.equal(events[0].outcome, 'unknown', 'forwarded without a reply: it may have run');
    assert.match(events[0].errorMessage ?? '', /closed before the reply/);
  });

  it('asks onCommandStart before the command is tracked, passes its number back, and lets its throw refuse the command', () => {
    const started: string[] = [];
    const finished: Array<number | undefined> = [];
    const { recorder, request, reply } = setup({
      onCommandStart: (e) => {
        started.push(e.command);
        if (e.command === 'drop') throw new Error('spool full');
        return 40 + started.length;
      },
      onEvent: (_e, n) => finished.push(n),
    });
    request(1, { find: 'c', $db: 'a' });
    assert.deepEqual(started, ['find'], 'called when the request is recorded, before any reply');
    reply(2, 1, { ok: 1 });
    assert.deepEqual(finished, [41]);
    request(3, { ping: 1, $db: 'a' });
    assert.deepEqual(started, ['find'], 'handshake and monitoring commands are not written ahead');
    assert.throws(() => request(4, { drop: 'c', $db: 'a' }), /spool full/);
    recorder.flush();
    assert.deepEqual(finished, [41], 'a command whose start could not be recorded is not tracked');
  });

  it('records an unreadable reply as an error instead of throwing', () => {
    const { events, recorder, request } = setup();
    request(1, { find: 'c', $db: 'a' });
    const bad = encodeOpMsg({ requestId: 2, responseTo: 1, body: { ok: 1 } });
    bad[bad.length - 1] = 7;
    recorder.onReply(bad);
    assert.equal(events[0].outcome, 'error');
    assert.match(events[0].errorMessage ?? '', /could not be read/);
  });

  it('logs a refused command (alwaysLog) as the bytes show it, with its SASL payload masked', () => {
    const { events, recorder } = setup();
    const raw = opMsg(
      commandBytes(
        [
          encodeElement('0', 1),
          encodeElement('saslStart', 1),
          encodeElement('mechanism', 'PLAIN'),
          encodeElement('payload', '\0other\0hunter2'),
        ],
        '$external',
      ),
      { requestId: 3 },
    );
    const identity = identify(raw);
    recorder.onRequest(raw, identity, { alwaysLog: true });
    recorder.onReply(
      encodeOpMsg({ requestId: 4, responseTo: 3, body: { ok: 0, errmsg: 'refused', code: 18, codeName: 'AuthenticationFailed' } }),
    );
    assert.equal(events.length, 1);
    assert.equal(events[0].command, '0');
    assert.equal(events[0].database, '$external');
    assert.equal(events[0].input, '{"0":1,"saslStart":1,"mechanism":"PLAIN","payload":"***"}');
    assert.doesNotMatch(JSON.stringify(events), /hunter2/);
  });

  it('logs a refused hello (alwaysLog) instead of only counting it', () => {
    const { events, recorder } = setup();
    const raw = opMsg(
      { hello: 1, speculativeAuthenticate: { saslStart: 1, mechanism: 'PLAIN', payload: '\0u\0pw' }, $db: 'admin' },
      { requestId: 5 },
    );
    recorder.onRequest(raw, identify(raw), { alwaysLog: true });
    recorder.flush();
    assert.equal(events.length, 1);
    assert.equal(events[0].input, '{"hello":1,"speculativeAuthenticate":{"saslStart":1,"mechanism":"PLAIN","payload":"***"}}');
    assert.deepEqual(recorder.counts(), { commands: 1, handshakeCommands: 0 });
  });
});
