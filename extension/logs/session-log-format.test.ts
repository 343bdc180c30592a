import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { sessionDto } from '../test/fixtures';

// Local times in a zone that is never UTC: a time printed in UTC would not match.
process.env.TZ = 'Asia/Kolkata';

type Format = typeof import('./session-log-format');
let renderSessionLog: Format['renderSessionLog'];
let describeState: Format['describeState'];
let LOG_WIDTH: number;

before(async () => {
  ({ renderSessionLog, describeState, LOG_WIDTH } = await import('./session-log-format'));
});

function command(seq: number, overrides: Partial<Extract<StoredSessionLogEvent, { kind: 'command' }>> = {}): StoredSessionLogEvent {
  return {
    kind: 'command',
    sessionId: 'ses_1',
    seq,
    time: '2026-01-01T10:00:02.000Z',
    connectionId: 'c1',
    database: 'shop',
    command: 'find',
    collection: 'orders',
    input: '{"find":"orders","filter":{}}',
    outcome: 'ok',
    documents: 12,
    durationMs: 3,
    ...overrides,
  };
}

describe('session log document', () => {
  const ended = sessionDto({
    state: 'ended',
    endReason: 'gateway_offline',
    startedAt: '2026-01-01T10:00:00.000Z',
    endedAt: '2026-01-01T10:01:05.000Z',
    durationSeconds: 65,
    commands: 2,
    connections: 1,
  });
  const events: StoredSessionLogEvent[] = [
    command(3, {
      time: '2026-01-01T10:00:03.000Z',
      command: 'insert',
      input: '{"insert":"orders","documents":"<1 document>"}',
      outcome: 'error',
      errorName: 'DuplicateKey',
      errorCode: 11000,
      errorMessage: 'E11000 duplicate key error',
      documents: undefined,
      affected: 0,
      durationMs: 1500,
    }),
    {
      kind: 'connection',
      sessionId: 'ses_1',
      seq: 1,
      time: '2026-01-01T10:00:01.000Z',
      connectionId: 'c1',
      phase: 'opened',
      message: 'mongosh 2.12.0',
    },
    command(2),
  ];

  it('has a header with local times and counts, one entry per command with its text under it, and the final state last', () => {
    const text = renderSessionLog(ended, events);
    const lines = text.split('\n');
    assert.equal(lines[0], 'Session ses_1: orders-db / reader');
    assert.ok(lines.includes('State:    ended (gateway offline)'), text);
    assert.ok(lines.includes('Started:  2026-01-01 15:30:00'), text);
    assert.ok(lines.includes('Ended:    2026-01-01 15:31:05'), text);
    assert.ok(lines.includes('Duration: 1m 05s'), text);
    assert.ok(lines.includes('Commands: 2 on 1 connection'), text);
    assert.ok(lines.includes('Times:    local (UTC+05:30)'), text);
    assert.doesNotMatch(text, /T10:00|Z\b/, 'no ISO UTC time anywhere');
    // In sequence order: the connection, the find and its text, the insert with its error and its text.
    const body = lines.slice(lines.indexOf('') + 1);
    assert.deepEqual(body.slice(0, 7), [
      '   15:30:01  connection c1 opened: mongosh 2.12.0',
      '   15:30:02  shop.orders  find: ok, 12 documents, 3 ms',
      '     {"find":"orders","filter":{}}',
      '   15:30:03  shop.orders  insert: error DuplicateKey (11000), 0 affected, 1.5 s',
      '     error: E11000 duplicate key error',
      '     {"insert":"orders","documents":"<1 document>"}',
      '',
    ]);
    assert.equal(
      body.slice(7).join(' ').replace(/\s+/g, ' ').trim(),
      'Session ended (gateway offline) at 2026-01-01 15:31:05 after 1m 05s: 2 commands on 1 connection.',
    );
  });

  it('while the session runs: says the log follows it, when it expires, and nothing about an end', () => {
    const now = new Date('2026-01-01T10:00:30.000Z');
    const active = sessionDto({ startedAt: '2026-01-01T10:00:00.000Z', expiresAt: '2026-01-01T11:00:00.000Z' });
    const text = renderSessionLog(active, [], { live: true, now });
    assert.match(text, /^State: {4}active \(this log follows it, every 2 s\)$/m);
    assert.match(text, /^Expires: {2}2026-01-01 16:30:00 \(in 59m\)$/m);
    assert.match(text, /^Duration: 30s$/m);
    assert.doesNotMatch(text, /^Ended:|^Session active/m);
    assert.match(text, /No commands recorded yet\.\n$/);
    assert.match(renderSessionLog(ended, []), /No commands were recorded\.\n\nSession ended/);
  });

  it('wraps long command text under its entry, so no line is wider than the document', () => {
    const input = JSON.stringify({
      aggregate: 'orders',
      pipeline: Array.from({ length: 30 }, (_, i) => ({ $match: { [`field${i}`]: i } })),
    });
    const unbroken = `{"comment":"${'x'.repeat(250)}"}`;
    const text = renderSessionLog(ended, [command(1, { command: 'aggregate', input }), command(2, { input: unbroken })]);
    const lines = text.split('\n');
    for (const line of lines) assert.ok(line.length <= LOG_WIDTH, `${line.length}: ${line}`);
    const entry = lines.findIndex((l) => l.includes('aggregate: ok'));
    const textLines: string[] = [];
    for (let i = entry + 1; lines[i].startsWith('     '); i++) textLines.push(lines[i].slice(5));
    assert.ok(textLines.length > 3, 'spread over several lines');
    assert.equal(textLines.join(''), input, 'breaks only at spaces and after commas, nothing lost');
    assert.ok(text.includes(`     ${'x'.repeat(LOG_WIDTH - 5)}\n`), 'a text with nowhere to break is cut at the width');
  });

  it('marks risky commands at a glance: !! for high, ! for other flags, with each flag’s detail under the entry', () => {
    const text = renderSessionLog(sessionDto({ reason: 'INC-7: stuck\norders', flagCount: 2, highFlagCount: 1 }), [
      command(1, {
        command: 'insert',
        outcome: 'refused',
        policy: 'read-only',
        errorMessage: 'the account "reader" is read-only (Portcullis policy): insert is not allowed',
        documents: undefined,
        durationMs: 0,
        flags: [{ id: 'policy-refusal', severity: 'medium', detail: 'refused by the read-only rule' }],
      }),
      command(2, {
        time: '2026-01-01T10:00:04.000Z',
        command: 'dropDatabase',
        collection: undefined,
        input: '{"dropDatabase":1}',
        documents: undefined,
        flags: [{ id: 'drop', severity: 'high', detail: 'dropDatabase shop\u202e' }],
      }),
      command(3, { time: '2026-01-01T10:00:05.000Z' }),
    ]);
    assert.match(text, /^Flags: {4}2 \(1 high\); flagged entries start with !! \(high\) or ! \(other\)$/m);
    assert.match(text, /^Reason: {3}INC-7: stuck\\norders$/m);
    assert.match(text, /^! {2}15:30:02 {2}shop\.orders {2}insert: refused by policy \(read-only\), 0 ms$/m);
    assert.match(text, /^ {5}! policy-refusal \(medium\): refused by the read-only rule$/m);
    assert.match(text, /^ {5}error: the account "reader" is read-only/m);
    assert.match(text, /^!! 15:30:04 {2}shop {2}dropDatabase: ok, 3 ms$/m);
    assert.match(text, /^ {5}!! drop \(high\): dropDatabase shop\\u202e$/m);
    assert.match(text, /^ {3}15:30:05 {2}shop\.orders {2}find: ok/m, 'an unflagged entry has a blank margin');
  });

  it('says when what is shown is stale because the server cannot be reached', () => {
    const text = renderSessionLog(sessionDto(), [], {
      live: true,
      stale: { at: new Date('2026-01-01T10:00:30.000Z'), error: 'could not reach the Portcullis server (ECONNREFUSED)' },
    });
    assert.match(
      text.replace(/\n {10}/g, ' '),
      /^Offline: {2}reconnecting: shown as of 15:30:30; the server could not be reached \(could not reach the Portcullis server \(ECONNREFUSED\)\)$/m,
    );
  });

  it('shows a session’s state once, and its end reason only where it adds something', () => {
    assert.equal(
      describeState(sessionDto({ state: 'terminated', endReason: 'terminated', endedBy: 'root@example.com' })),
      'terminated by root@example.com',
    );
    assert.equal(describeState(sessionDto({ state: 'expired', endReason: 'expired' })), 'expired');
    assert.equal(describeState(sessionDto({ state: 'ended', endReason: 'idle' })), 'ended (idle)');
    assert.equal(
      describeState(sessionDto({ state: 'ended', endReason: 'stopped', endedBy: 'ada@example.com' })),
      'ended (stopped)',
      'by its own user',
    );
    assert.equal(describeState(sessionDto()), 'active');
  });

  it('escapes what users, clients and databases chose, so no control or bidi character reaches the document', () => {
    const hostile = sessionDto({
      resourceName: 'orders\u202edb',
      accountName: 'reader\r\nUser:     admin@example.com',
      userEmail: 'eve\x1b[8m@example.com',
      clientAgent: 'agent\u009b31m',
    });
    const text = renderSessionLog(hostile, [
      {
        kind: 'connection',
        sessionId: 'ses_1',
        seq: 1,
        time: '2026-01-01T10:00:01.000Z',
        connectionId: 'c1',
        phase: 'opened',
        message: 'driver nodejs 6.16.0, app \x1b]0;owned\x07\u2066',
      },
      command(2, {
        database: 'shop\u2028',
        command: 'find\x7f',
        collection: '\x1b[2J\x1b[31mpwned',
        input: '{"find":"\x1b[2J"}',
        outcome: 'error',
        errorName: 'Bad\u0085Name',
        documents: undefined,
      }),
    ]);
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/);
    const lines = text.split('\n');
    assert.equal(lines[0], 'Session ses_1: orders\\u202edb / reader\\r\\nUser:     admin@example.com');
    assert.equal(lines[1], 'User:     eve\\x1b[8m@example.com');
    assert.ok(lines.includes('Client:   agent\\u009b31m from 127.0.0.1'), text);
    assert.ok(lines.includes('   15:30:01  connection c1 opened: driver nodejs 6.16.0, app \\x1b]0;owned\\x07\\u2066'), text);
    assert.ok(lines.includes('   15:30:02  shop\\u2028.\\x1b[2J\\x1b[31mpwned  find\\x7f: error Bad\\u0085Name, 3 ms'), text);
    assert.ok(lines.includes('     {"find":"\\x1b[2J"}'), text);
  });
});
