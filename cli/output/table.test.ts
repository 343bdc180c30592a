import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { renderLogTable } from '../commands/session';
import { formatDuration } from './format';
import { renderFields, renderTable } from './table';

/** Characters a terminal acts on or that reorder text: none may reach the output raw. */
const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;

describe('renderTable', () => {
  it('pads columns to the widest cell, right-aligns numbers, shows - for empty and yes/no for booleans', () => {
    const text = renderTable(
      [
        { name: 'main', n: 5, tls: true, note: '' },
        { name: 'analytics-replica', n: 120, tls: false, note: 'x' },
      ],
      [
        { header: 'name', value: (r) => r.name },
        { header: 'n', value: (r) => r.n, align: 'right' },
        { header: 'tls', value: (r) => r.tls },
        { header: 'note', value: (r) => r.note },
      ],
    );
    assert.equal(
      text,
      ['NAME                 N  TLS  NOTE', 'main                 5  yes  -', 'analytics-replica  120  no   x'].join('\n'),
    );
  });

  it('cuts cells longer than maxWidth with an ellipsis', () => {
    const text = renderTable([{ v: 'abcdefghij\nklm' }], [{ header: 'v', value: (r) => r.v, maxWidth: 6 }]);
    assert.equal(text.split('\n')[1], 'abcde…');
  });

  it('shows control and bidi characters in cells as escapes, so a value cannot drive the terminal or add a row', () => {
    const text = renderTable(
      [{ v: '\x1b[2J\x1b[31mpwned' }, { v: 'a\nforged row' }, { v: 'x\u009b1m\u202ey' }, { v: 'typed \\x1b' }, { v: 'café 注文' }],
      [{ header: 'v', value: (r) => r.v }],
    );
    assert.doesNotMatch(text, RAW_UNSAFE);
    assert.deepEqual(text.split('\n').slice(1), [
      '\\x1b[2J\\x1b[31mpwned',
      'a\\nforged row',
      'x\\u009b1m\\u202ey',
      'typed \\\\x1b',
      'café 注文',
    ]);
  });

  it('escapes JSON cells the JSON way, keeping their own escapes as they are', () => {
    const input = JSON.stringify({ find: '\x1b[2J\u202e' });
    const text = renderTable([{ input }], [{ header: 'input', value: (r) => r.input, json: true }]);
    assert.equal(text.split('\n')[1], '{"find":"\\u001b[2J\\u202e"}');
  });

  it('renders label/value pairs aligned', () => {
    assert.equal(
      renderFields([
        ['Name', 'x'],
        ['Connections', 3],
      ]),
      'Name:         x\nConnections:  3',
    );
    assert.equal(renderFields([['Client', 'app\x1b]0;owned\x07']]), 'Client:  app\\x1b]0;owned\\x07');
  });
});

describe('session log table', () => {
  it('has the columns time, database, command, collection, outcome, documents, duration ms', () => {
    const events: StoredSessionLogEvent[] = [
      {
        kind: 'command',
        sessionId: 'ses_1',
        seq: 1,
        connectionId: 'c1',
        time: '2026-01-02T03:04:05.000Z',
        database: 'shop',
        command: 'find',
        collection: 'orders',
        input: '{}',
        outcome: 'ok',
        documents: 3,
        durationMs: 2,
      },
      {
        kind: 'command',
        sessionId: 'ses_1',
        seq: 2,
        connectionId: 'c1',
        time: '2026-01-02T03:04:06.000Z',
        database: 'shop',
        command: 'insert',
        collection: 'orders',
        input: '{}',
        outcome: 'error',
        errorCode: 11000,
        errorName: 'DuplicateKey',
        durationMs: 1,
      },
    ];
    const lines = renderLogTable(events, false).split('\n');
    assert.match(lines[0], /^TIME\s+DATABASE\s+COMMAND\s+COLLECTION\s+OUTCOME\s+DOCUMENTS\s+DURATION MS$/);
    assert.match(lines[1], /shop\s+find\s+orders\s+ok\s+3\s+2$/);
    assert.match(lines[2], /shop\s+insert\s+orders\s+error DuplicateKey\s+-\s+1$/);
  });

  it('escapes what clients chose: database, command and collection names, errors, input and client metadata', () => {
    const collection = '\x1b[2J\x1b[31mpwned\u202e';
    const events: StoredSessionLogEvent[] = [
      {
        kind: 'connection',
        sessionId: 'ses_1',
        seq: 1,
        connectionId: 'c1',
        time: '2026-01-02T03:04:04.000Z',
        phase: 'failed',
        message: 'app \x1b]0;owned\x07\u009b',
      },
      {
        kind: 'command',
        sessionId: 'ses_1',
        seq: 2,
        connectionId: 'c1',
        time: '2026-01-02T03:04:05.000Z',
        database: 'shop\r\nforged',
        command: 'find\u2028',
        collection,
        input: JSON.stringify({ find: collection, filter: { note: '\u0085' } }),
        outcome: 'error',
        errorName: 'Bad\x1b[0m',
        durationMs: 2,
      },
    ];
    const text = renderLogTable(events, true);
    assert.doesNotMatch(text, RAW_UNSAFE);
    assert.equal(text.split('\n').length, 3, 'a header and two rows');
    assert.match(text, /failed: app \\x1b\]0;owned\\x07\\u009b/);
    assert.match(text, /shop\\r\\nforged\s+find\\u2028\s+\\x1b\[2J\\x1b\[31mpwned\\u202e\s+error Bad\\x1b\[0m\s/);
    assert.ok(text.includes('{"find":"\\u001b[2J\\u001b[31mpwned\\u202e","filter":{"note":"\\u0085"}}'), text);
  });
});

describe('formatDuration', () => {
  it('reads like people write it', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(59), '59s');
    assert.equal(formatDuration(3725), '1h 2m 5s');
    assert.equal(formatDuration(7200), '2h');
  });
});
