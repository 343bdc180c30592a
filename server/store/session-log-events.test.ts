import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { LogBatch } from '../../protocol/gateway-channel';
import type { SessionLogEvent } from '../../protocol/session-log';
import { InvalidCursorError } from './pagination';
import { insertSessionLogBatch, listSessionLogEvents } from './session-log-events';
import { describeOnBothDialects } from './store-test-harness';

function command(seq: number, extra: Partial<SessionLogEvent> = {}): SessionLogEvent & { seq: number } {
  return {
    seq,
    kind: 'command',
    time: `2026-01-02T03:04:${String(seq % 60).padStart(2, '0')}.000Z`,
    connectionId: 'c1',
    database: 'shop',
    command: 'find',
    collection: 'orders',
    input: `{"find":"orders","filter":{"n":${seq}}}`,
    outcome: 'ok',
    documents: seq,
    durationMs: 1.5,
    ...extra,
  } as SessionLogEvent & { seq: number };
}

describeOnBothDialects('session log events', ({ freshStore }) => {
  it('stores a batch sent twice only once, and a batch that overlaps an earlier one adds only the new events', async () => {
    const { store } = await freshStore();
    const batch: LogBatch = { sessionId: 'ses_a', origin: 'run-1', events: [command(1), command(2), command(3)] };
    assert.equal((await insertSessionLogBatch(store.db, batch)).inserted, 3);
    assert.equal((await insertSessionLogBatch(store.db, batch)).inserted, 0);
    const overlap: LogBatch = { ...batch, events: [command(3), command(4)] };
    assert.equal((await store.transaction((trx) => insertSessionLogBatch(trx, overlap))).inserted, 1);
    // The same seq from another gateway run is another event.
    assert.equal((await insertSessionLogBatch(store.db, { sessionId: 'ses_a', origin: 'run-2', events: [command(1)] })).inserted, 1);
    assert.equal((await insertSessionLogBatch(store.db, { sessionId: 'ses_a', origin: 'run-2', events: [] })).inserted, 0);

    const page = await listSessionLogEvents(store.db, 'ses_a', { limit: 100 });
    assert.deepEqual(
      page.items.map((e) => e.seq),
      [1, 2, 3, 4, 1],
    );
    assert.equal(page.nextCursor, undefined);
    // The stored event is the event as sent, plus its session and seq.
    assert.deepEqual(page.items[1], { ...command(2), sessionId: 'ses_a' });
  });

  it('stores each well-formed flag once with its event (a batch sent twice adds none), and drops malformed ones', async () => {
    const { store } = await freshStore();
    const drop = { id: 'drop', severity: 'high', detail: 'dropDatabase shop' } as const;
    const js = { id: 'server-js', severity: 'medium', detail: '$where in find' } as const;
    const batch = {
      sessionId: 'ses_f',
      origin: 'o',
      events: [
        command(1, { command: 'dropDatabase', flags: [drop] } as never),
        command(2, { flags: [js, js, { id: 'made-up', severity: 'high', detail: 'x' }, { id: 'drop', severity: 'urgent' }] } as never),
        command(3),
      ],
    } as LogBatch;
    assert.deepEqual(await insertSessionLogBatch(store.db, batch), { inserted: 3, commands: 3, flags: 2, highFlags: 1 });
    assert.deepEqual(await insertSessionLogBatch(store.db, batch), { inserted: 0, commands: 0, flags: 0, highFlags: 0 });
    const rows = await store.db.selectFrom('session_flags').select(['flag', 'severity', 'detail', 'time']).orderBy('flag').execute();
    assert.deepEqual(rows, [
      { flag: 'drop', severity: 'high', detail: 'dropDatabase shop', time: command(1).time },
      { flag: 'server-js', severity: 'medium', detail: '$where in find', time: command(2).time },
    ]);
  });

  it('stores a batch larger than one statement holds', async () => {
    const { store } = await freshStore();
    const events = Array.from({ length: 1203 }, (_, i) => command(i + 1));
    assert.equal((await insertSessionLogBatch(store.db, { sessionId: 'ses_big', origin: 'o', events })).inserted, 1203);
    assert.equal((await insertSessionLogBatch(store.db, { sessionId: 'ses_big', origin: 'o', events })).inserted, 0);
  });

  it('pages through one session in stored order with an opaque cursor, and refuses a forged cursor', async () => {
    const { store } = await freshStore();
    await insertSessionLogBatch(store.db, { sessionId: 'ses_p', origin: 'o', events: [1, 2, 3, 4, 5].map((n) => command(n)) });
    await insertSessionLogBatch(store.db, { sessionId: 'ses_other', origin: 'o', events: [command(1)] });
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listSessionLogEvents(store.db, 'ses_p', { limit: 2, cursor });
      seen.push(...page.items.map((e) => e.seq));
      for (const item of page.items) assert.equal(item.sessionId, 'ses_p');
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    assert.equal(pages, 3);
    await assert.rejects(listSessionLogEvents(store.db, 'ses_p', { limit: 2, cursor: 'not-a-cursor' }), InvalidCursorError);
    await assert.rejects(listSessionLogEvents(store.db, 'ses_p', { limit: 0 }), RangeError);
  });
});
