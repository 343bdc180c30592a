import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { sessionDto } from '../test/fixtures';
import { renderSessionLog } from './session-log-format';

describe('session log document', () => {
  const session = sessionDto({
    state: 'ended',
    endReason: 'gateway_offline',
    startedAt: '2026-01-01T10:00:00.000Z',
    endedAt: '2026-01-01T10:01:05.000Z',
    durationSeconds: 65,
    commands: 2,
    connections: 1,
  });
  const events: StoredSessionLogEvent[] = [
    {
      kind: 'command',
      sessionId: 'ses_1',
      seq: 3,
      time: '2026-01-01T10:00:03.000Z',
      connectionId: 'c1',
      database: 'shop',
      command: 'insert',
      collection: 'orders',
      input: '{}',
      outcome: 'error',
      errorName: 'DuplicateKey',
      errorCode: 11000,
      affected: 0,
      durationMs: 1500,
    },
    {
      kind: 'connection',
      sessionId: 'ses_1',
      seq: 1,
      time: '2026-01-01T10:00:01.000Z',
      connectionId: 'c1',
      phase: 'opened',
      message: 'mongosh 2.12.0',
    },
    {
      kind: 'command',
      sessionId: 'ses_1',
      seq: 2,
      time: '2026-01-01T10:00:02.000Z',
      connectionId: 'c1',
      database: 'shop',
      command: 'find',
      collection: 'orders',
      input: '{}',
      outcome: 'ok',
      documents: 12,
      durationMs: 3,
    },
  ];

  it('has a header, then one aligned row per command in sequence order, connection events as notes', () => {
    const lines = renderSessionLog(session, events).split('\n');
    assert.equal(lines[0], 'Session ses_1: orders-db / reader');
    assert.ok(lines.includes('State:    ended (gateway offline)'));
    assert.ok(lines.includes('Duration: 1m 05s'));
    const header = lines.findIndex((l) => l.startsWith('   Time'));
    const columns = ['Database', 'Command', 'Collection', 'Outcome', 'Documents', 'Duration'].map((c) => lines[header].indexOf(c));
    assert.ok(
      columns.every((c, i) => c > (columns[i - 1] ?? 0)),
      lines[header],
    );
    assert.match(lines[header + 1], /^ {3}-{24} {2}-{8}/);
    assert.equal(lines[header + 2], '  2026-01-01T10:00:01.000Z  connection c1 opened: mongosh 2.12.0');
    const cells = (line: string) => columns.map((at, i) => line.slice(at, columns[i + 1]).trim());
    assert.ok(lines[header + 3].startsWith('   2026-01-01T10:00:02.000Z '));
    assert.deepEqual(cells(lines[header + 3]), ['shop', 'find', 'orders', 'ok', '12', '3 ms']);
    assert.ok(lines[header + 4].startsWith('   2026-01-01T10:00:03.000Z '));
    assert.deepEqual(cells(lines[header + 4]), ['shop', 'insert', 'orders', 'error DuplicateKey', '0 affected', '1.5 s']);
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
      {
        kind: 'command',
        sessionId: 'ses_1',
        seq: 2,
        time: '2026-01-01T10:00:02.000Z',
        connectionId: 'c1',
        database: 'shop\u2028',
        command: 'find\x7f',
        collection: '\x1b[2J\x1b[31mpwned',
        input: '{}',
        outcome: 'error',
        errorName: 'Bad\u0085Name',
        durationMs: 3,
      },
    ]);
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/);
    const lines = text.split('\n');
    assert.equal(lines[0], 'Session ses_1: orders\\u202edb / reader\\r\\nUser:     admin@example.com');
    assert.equal(lines[1], 'User:     eve\\x1b[8m@example.com');
    assert.ok(lines.includes('Client:   agent\\u009b31m from 127.0.0.1'), text);
    assert.ok(
      lines.includes('  2026-01-01T10:00:01.000Z  connection c1 opened: driver nodejs 6.16.0, app \\x1b]0;owned\\x07\\u2066'),
      text,
    );
    assert.match(text, /shop\\u2028\s+find\\x7f\s+\\x1b\[2J\\x1b\[31mpwned\s+error Bad\\u0085Name\s/);
  });

  it('shows the reason the user gave, and commands the policy refused with the rule', () => {
    const text = renderSessionLog(sessionDto({ reason: 'INC-7: stuck\norders', flagCount: 2, highFlagCount: 1 }), [
      {
        kind: 'command',
        sessionId: 'ses_1',
        seq: 1,
        time: '2026-01-01T10:00:03.000Z',
        connectionId: 'c1',
        database: 'shop',
        command: 'insert',
        collection: 'orders',
        input: '{}',
        outcome: 'refused',
        policy: 'read-only',
        errorMessage: 'the account "reader" is read-only (Portcullis policy): insert is not allowed',
        durationMs: 0,
        flags: [{ id: 'policy-refusal', severity: 'medium', detail: 'refused by the read-only rule' }],
      },
      {
        kind: 'command',
        sessionId: 'ses_1',
        seq: 2,
        time: '2026-01-01T10:00:04.000Z',
        connectionId: 'c1',
        database: 'shop',
        command: 'dropDatabase',
        input: '{}',
        outcome: 'ok',
        durationMs: 3,
        flags: [{ id: 'drop', severity: 'high', detail: 'dropDatabase shop\u202e' }],
      },
    ]);
    assert.match(text, /^Flags: {4}2 \(1 high\)/m);
    assert.match(text, /^! {2}2026-01-01T10:00:03\.000Z .*policy-refusal: refused by the read-only rule$/m);
    assert.match(text, /^!! 2026-01-01T10:00:04\.000Z .*drop: dropDatabase shop\\u202e$/m);
    assert.match(text, /^Reason: {3}INC-7: stuck\\norders$/m);
    assert.match(text, /insert\s+orders\s+refused by policy \(read-only\)/);
  });

  it('says when nothing was recorded', () => {
    assert.match(renderSessionLog(session, []), /No commands recorded yet\.\n$/);
  });
});
