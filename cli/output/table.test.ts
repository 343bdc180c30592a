import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import { renderLogTable } from '../commands/session';
import { formatDuration } from './format';
import { renderFields, renderTable } from './table';

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

  it('cuts cells longer than maxWidth with an ellipsis and flattens newlines', () => {
    const text = renderTable([{ v: 'abcdefghij\nklm' }], [{ header: 'v', value: (r) => r.v, maxWidth: 6 }]);
    assert.equal(text.split('\n')[1], 'abcde…');
  });

  it('renders label/value pairs aligned', () => {
    assert.equal(
      renderFields([
        ['Name', 'x'],
        ['Connections', 3],
      ]),
      'Name:         x\nConnections:  3',
    );
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
});

describe('formatDuration', () => {
  it('reads like people write it', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(59), '59s');
    assert.equal(formatDuration(3725), '1h 2m 5s');
    assert.equal(formatDuration(7200), '2h');
  });
});
