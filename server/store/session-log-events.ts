import type { Kysely } from 'kysely';
import type { SessionLogPage } from '../../protocol/api';
import type { LogBatch } from '../../protocol/gateway-channel';
import type { SessionLogEvent, StoredSessionLogEvent } from '../../protocol/session-log';
import { decodeCursor, encodeCursor, InvalidCursorError } from './pagination';
import type { Database, NewSessionLogEventRow } from './schema';

// Stays below SQLite's and PostgreSQL's limits on bound parameters per statement (7 columns a row).
const ROWS_PER_STATEMENT = 500;

/**
 * Stores a gateway's log batch. Idempotent: an event already stored (same session, origin and seq) is skipped,
 * so a batch re-sent after a lost acknowledgement is stored once. Returns how many events were new, and how many
 * of those were commands (the session's command count grows by that much).
 * Run it inside `store.transaction` to store a batch all or nothing.
 */
export async function insertSessionLogBatch(db: Kysely<Database>, batch: LogBatch): Promise<{ inserted: number; commands: number }> {
  const rows: NewSessionLogEventRow[] = batch.events.map(({ seq, ...event }) => ({
    session_id: batch.sessionId,
    origin: batch.origin,
    seq,
    time: event.time,
    kind: event.kind,
    connection_id: event.connectionId,
    data: JSON.stringify(event),
  }));
  let inserted = 0;
  let commands = 0;
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const stored = await db
      .insertInto('session_log_events')
      .values(rows.slice(start, start + ROWS_PER_STATEMENT))
      .onConflict((oc) => oc.columns(['session_id', 'origin', 'seq']).doNothing())
      .returning('kind')
      .execute();
    inserted += stored.length;
    commands += stored.filter((row) => row.kind === 'command').length;
  }
  return { inserted, commands };
}

/** One page of a session's log in the order it was stored; `cursor` is the previous page's `nextCursor`. */
export async function listSessionLogEvents(
  db: Kysely<Database>,
  sessionId: string,
  page: { limit: number; cursor?: string },
): Promise<SessionLogPage> {
  if (!Number.isInteger(page.limit) || page.limit < 1) throw new RangeError('the page limit must be a positive integer');
  const afterId = page.cursor === undefined ? 0 : decodeCursor(page.cursor, 1)[0];
  if (typeof afterId !== 'number' || !Number.isInteger(afterId)) throw new InvalidCursorError();
  const rows = await db
    .selectFrom('session_log_events')
    .select(['id', 'seq', 'data'])
    .where('session_id', '=', sessionId)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(page.limit + 1)
    .execute();
  const items: StoredSessionLogEvent[] = rows
    .slice(0, page.limit)
    .map((row) => ({ ...(JSON.parse(row.data) as SessionLogEvent), sessionId, seq: row.seq }));
  const last = rows.length > page.limit ? rows[page.limit - 1] : undefined;
  return last ? { items, nextCursor: encodeCursor([last.id]) } : { items };
}
