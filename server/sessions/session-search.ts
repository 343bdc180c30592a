/**
 * `GET /sessions/search`: the recorded commands whose text matches, across the sessions the actor may see (admins:
 * every session of their projects; members: their own), newest first. What is searched is what the gateway logged
 * (command, database, collection, input), already masked. Every word must match; the last one as a prefix, as typed
 * so far (`orders 4711` finds `{"find":"orders","filter":{"n":47110}}`). Earlier words match whole: a prefix
 * there (`customer*`) would expand to every customer's token and cost a merge of thousands of index lists.
 *
 * SQLite answers from its FTS5 index (walked in rowid order, newest first, so a page stops early), PostgreSQL from a
 * GIN index on a generated tsvector (server/store/migrations/0060-log-search.ts).
 */
import { sql } from 'kysely';
import type { Page, SessionSearchHit } from '../../protocol/api';
import type { SessionLogEvent } from '../../protocol/session-log';
import { projectsOf } from '../services/authorization';
import type { Actor, ServiceContext } from '../services/context';
import { DEFAULT_PAGE_SIZE, decodeCursor, pageOf } from '../services/cursor';
import { invalid } from '../services/service-error';

export interface SessionSearchQuery {
  q: string;
  resourceId?: string;
  userId?: string;
  /** ISO 8601 bounds on the command's time. */
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

const MAX_WORDS = 8;

/** The words of a query: letters, digits and underscores (what both indexes split text into). */
export function searchWords(q: string): string[] {
  const words = (q.normalize('NFKC').match(/[\p{L}\p{N}_]+/gu) ?? []).map((w) => w.toLowerCase().slice(0, 64));
  return [...new Set(words)].slice(0, MAX_WORDS);
}

interface HitRow {
  id: number;
  seq: number;
  data: string;
  session_id: string;
  resource_name: string;
  account_name: string;
  user_email: string;
}

export async function searchSessionLogs(ctx: ServiceContext, actor: Actor, query: SessionSearchQuery): Promise<Page<SessionSearchHit>> {
  const words = searchWords(query.q);
  if (words.length === 0) throw invalid('q: give at least one word to search for (letters or digits)');
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const { admin, member } = await projectsOf(ctx, actor.userId);
  if (admin.length === 0 && member.length === 0) return { items: [] };
  const before = query.cursor ? Number(decodeCursor(query.cursor, ['n'])[0]) : Number.MAX_SAFE_INTEGER;

  const visible = sql.join(
    [
      ...(admin.length > 0 ? [sql`s.project_id in (${sql.join(admin)})`] : []),
      ...(member.length > 0 ? [sql`(s.project_id in (${sql.join(member)}) and s.user_id = ${actor.userId})`] : []),
    ],
    sql` or `,
  );
  const filters = [
    sql`(${visible})`,
    ...(query.resourceId ? [sql`s.resource_id = ${query.resourceId}`] : []),
    ...(query.userId ? [sql`s.user_id = ${query.userId}`] : []),
    ...(query.from ? [sql`e.time >= ${new Date(query.from).toISOString()}`] : []),
    ...(query.to ? [sql`e.time < ${new Date(query.to).toISOString()}`] : []),
  ];
  const columns = sql`e.id, e.seq, e.data, e.session_id, s.resource_name, s.account_name, s.user_email`;
  const rows =
    ctx.store.dialect === 'postgres'
      ? await sql<HitRow>`select ${columns} from session_log_events e join sessions s on s.id = e.session_id
          where e.search @@ to_tsquery('simple', ${words.map((w, i) => (i === words.length - 1 ? `${w}:*` : w)).join(' & ')}) and e.id < ${before}
            and ${sql.join(filters, sql` and `)}
          order by e.id desc limit ${limit + 1}`.execute(ctx.store.db)
      : // CROSS JOIN keeps the index first: left to itself, SQLite's planner starts from the sessions and runs one
        // full-text query per event, seconds on a large log.
        await sql<HitRow>`select ${columns} from session_log_search f
          cross join session_log_events e on e.id = f.rowid cross join sessions s on s.id = e.session_id
          where session_log_search match ${words.map((w, i) => (i === words.length - 1 ? `"${w}"*` : `"${w}"`)).join(' ')} and f.rowid < ${before}
            and ${sql.join(filters, sql` and `)}
          order by f.rowid desc limit ${limit + 1}`.execute(ctx.store.db);
  return pageOf(
    rows.rows,
    limit,
    (r) => {
      const event = JSON.parse(r.data) as SessionLogEvent;
      if ('detail' in event) delete event.detail;
      return {
        ...event,
        sessionId: r.session_id,
        seq: r.seq,
        resourceName: r.resource_name,
        accountName: r.account_name,
        userEmail: r.user_email,
      } as SessionSearchHit;
    },
    (r) => [Number(r.id)],
  );
}
