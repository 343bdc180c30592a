import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CommandEvent } from '../../protocol/session-log';
import { LogSpool, SpoolWriteError } from './log-spool';

const key = randomBytes(32);
const time = '2026-12-02T10:00:00.000Z';
const begun = (n: number): Omit<CommandEvent, 'outcome' | 'durationMs'> => ({
  kind: 'command',
  time,
  connectionId: 'c1',
  database: 'shop',
  command: 'insert',
  collection: 'orders',
  input: `{"insert":"orders","comment":"secret-value-${n}"}`,
});
const finished = (n: number): CommandEvent => ({ ...begun(n), outcome: 'ok', durationMs: 1 });

describe('LogSpool', () => {
  it('gives back what a killed run left: finished events, and begun commands as unknown', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const first = LogSpool.open(dir, key, 'run1').spool;
    first.begin('s1', 1, begun(1));
    first.event('s1', 1, finished(1));
    first.begin('s1', 2, begun(2)); // killed before its reply
    first.event('s1', 3, { kind: 'connection', phase: 'opened', time, connectionId: 'c1' });
    first.begin('s1', 4, begun(4));
    first.event('s1', 4, finished(4));
    first.acknowledge('s1', 'run1', [4]);
    // No close(): the process was killed.
    const { recovered } = LogSpool.open(dir, key, 'run2');
    assert.deepEqual(
      recovered.map((e) => [e.origin, e.seq, e.event.kind === 'command' ? e.event.outcome : e.event.phase]),
      [
        ['run1', 1, 'ok'],
        ['run1', 2, 'unknown'],
        ['run1', 3, 'opened'],
      ],
    );
    assert.match((recovered[1].event as CommandEvent).errorMessage ?? '', /stopped before the reply/);
  });

  it('encrypts every record and keeps its files 0600 in a 0700 folder', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'spool-')), 'spool');
    const { spool } = LogSpool.open(dir, key, 'run1');
    spool.begin('s1', 1, begun(7));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const name of readdirSync(dir)) {
      assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600);
      assert.ok(!readFileSync(join(dir, name)).includes('secret-value'), 'no plain text on disk');
    }
    spool.close();
  });

  it('ignores a torn last record, and keeps (never deletes) a file written under another key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const { spool } = LogSpool.open(dir, key, 'run1');
    spool.begin('s1', 1, begun(1));
    spool.begin('s1', 2, begun(2));
    const [file] = readdirSync(dir);
    truncateSync(join(dir, file), statSync(join(dir, file)).size - 5);
    assert.deepEqual(
      LogSpool.open(dir, key, 'run2').recovered.map((e) => e.seq),
      [1],
    );
    const other = LogSpool.open(dir, randomBytes(32), 'run3');
    assert.equal(other.recovered.length, 0);
    assert.ok(other.unreadable.length >= 1, 'reported');
    assert.ok(readdirSync(dir).includes(file), 'kept for an operator');
  });

  it('deletes a file once the control plane acknowledged all it holds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    LogSpool.open(dir, key, 'run1').spool.event('s1', 1, finished(1));
    const { spool, recovered } = LogSpool.open(dir, key, 'run2');
    assert.equal(recovered.length, 1);
    assert.equal(readdirSync(dir).length, 2);
    spool.acknowledge('s1', 'run1', [1]);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('run1')),
      [],
    );
    assert.equal(spool.pending, 0);
  });

  it('fails closed when the disk is full: the write throws SpoolWriteError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    // This run's own file is a full disk (the spool does not read links as earlier runs' files).
    symlinkSync('/dev/full', join(dir, 'spool-run1-0000.log'));
    const { spool } = LogSpool.open(dir, key, 'run1');
    assert.throws(
      () => spool.begin('s1', 1, begun(1)),
      (e: Error) => e instanceof SpoolWriteError && /ENOSPC/.test(e.message),
    );
  });
});
