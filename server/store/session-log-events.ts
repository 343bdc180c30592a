import type { Kysely } from 'kysely';
import type { SessionLogPage } from '../../protocol/api';
import type { LogBatch } from '../../protocol/gateway-channel';
import {
  RISK_FLAG_IDS,
  type RiskFlag,
  type RiskFlagId,
  type SessionLogEvent,
  type StoredSessionLogEvent,
} from '../../protocol/session-log';
import { decodeCursor, encodeCursor, InvalidCursorError } from './pagination';
import type { Database, NewSessionFlagRow, NewSessionLogEventRow } from './schema';

// Stays below SQLite's and PostgreSQL's limits on bound parameters per statement (7 columns a row).
const ROWS_PER_STATEMENT = 500;

/**
 * Stores a gateway's log batch. Idempotent: an event already stored (same session, origin and seq) is skipped,
 * so a batch re-sent after a lost acknowledgement is stored once. Returns how many events were new, and how many
 * of those were commands (the session's command count grows by that much).
 * Run it inside `store.transaction` to store a batch all or nothing.
 */
export async function insertSessionLogBatch(
  db: Kysely<Database>,
  batch: LogBatch,
): Promise<{ inserted: number; commands: number; flags: number; highFlags: number }> {
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
  let flags = 0;
  let highFlags = 0;
  const flagsBySeq = new Map<number, RiskFlag[]>();
  for (const { seq, ...event } of batch.events) {
    const checked = event.kind === 'command' ? storableFlags(event.flags) : [];
    if (checked.length > 0) flagsBySeq.set(seq, checked);
  }
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const stored = await db
      .insertInto('session_log_events')
      .values(rows.slice(start, start + ROWS_PER_STATEMENT))
      .onConflict((oc) => oc.columns(['session_id', 'origin', 'seq']).doNothing())
      .returning(['id', 'kind', 'seq', 'time'])
      .execute();
    inserted += stored.length;
    commands += stored.filter((row) => row.kind === 'command').length;
    // Flags of the events stored now (one already stored had its flags stored with it).
    const flagRows: NewSessionFlagRow[] = stored.flatMap((row) =>
      (flagsBySeq.get(row.seq) ?? []).map((flag) => ({
        session_id: batch.sessionId,
        event_id: row.id,
        flag: flag.id,
        severity: flag.severity,
        detail: flag.detail,
        time: row.time,
      })),
    );
    for (let at = 0; at < flagRows.length; at += ROWS_PER_STATEMENT) {
      await db
        .insertInto('session_flags')
        .values(flagRows.slice(at, at + ROWS_PER_STATEMENT))
        .execute();
    }
    flags += flagRows.length;
    highFlags += flagRows.filter((f) => f.severity === 'high').length;
  }
  return { inserted, commands, flags, highFlags };
}

const SEVERITIES: ReadonlySet<string> = new Set(['high', 'medium', 'low']);

/** The flags a gateway sent, as far as they are well-formed: a known id once, a severity, a short detail. */
function storableFlags(flags: unknown): RiskFlag[] {
  if (!Array.isArray(flags)) return [];
  const seen = new Set<string>();
  const out: RiskFlag[] = [];
  for (const flag of flags as Array<Partial<RiskFlag>>) {
    if (typeof flag !== 'object' || flag === null) continue;
    if (!RISK_FLAG_IDS.includes(flag.id as RiskFlagId) || seen.has(flag.id as string)) continue;
    if (typeof flag.severity !== 'string' || !SEVERITIES.has(flag.severity)) continue;
    seen.add(flag.id as string);
    out.push({
      id: flag.id as RiskFlagId,
      severity: flag.severity,
      detail: typeof flag.detail === 'string' ? flag.detail.slice(0, 300) : '',
    });
  }
  return out;
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
