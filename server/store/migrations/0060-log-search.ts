import { type Kysely, sql } from 'kysely';
import type { StoreMigration } from './store-migration';

/**
 * Full-text search over recorded commands (server/store/log-search.ts): the command's name, database, collection and
 * its input as the gateway logged it (already masked: nothing unmasked is ever indexed).
 * - SQLite: an FTS5 table without content of its own (rowid = session_log_events.id), filled by a trigger.
 * - PostgreSQL: a generated tsvector column with a GIN index: 'simple' configuration (no stemming) over the text with
 *   every run of other characters made a space, so that words are split as FTS5's unicode61 splits them (PostgreSQL's
 *   own parser keeps `ada@example.com` as one word, and `example` would not find it).
 */
export const logSearchMigration: StoreMigration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the schema of their own time
  async up(db: Kysely<any>, dialect): Promise<void> {
    if (dialect === 'postgres') {
      await sql`alter table session_log_events add column search tsvector generated always as (
        case when kind = 'command' then to_tsvector('simple'::regconfig, regexp_replace(
          coalesce(data::json->>'command', '') || ' ' || coalesce(data::json->>'database', '') || ' ' ||
          coalesce(data::json->>'collection', '') || ' ' || coalesce(data::json->>'input', ''),
          '[^[:alnum:]_]+', ' ', 'g'))
        end) stored`.execute(db);
      await sql`create index session_log_events_search on session_log_events using gin (search)`.execute(db);
      return;
    }
    await sql`create virtual table session_log_search using fts5(text, content='', tokenize='unicode61 remove_diacritics 2')`.execute(db);
    // What is indexed of a row (`row.` is `new.` in the trigger).
    const text = (row: string) =>
      sql.raw(
        ['command', 'database', 'collection', 'input']
          .map((field) => `coalesce(json_extract(${row}data, '$.${field}'), '')`)
          .join(" || ' ' || "),
      );
    await sql`create trigger session_log_events_search after insert on session_log_events when new.kind = 'command'
      begin insert into session_log_search(rowid, text) values (new.id, ${text('new.')}); end`.execute(db);
    // Events stored before this migration.
    await sql`insert into session_log_search(rowid, text) select id, ${text('')} from session_log_events where kind = 'command'`.execute(
      db,
    );
  },

  // biome-ignore lint/suspicious/noExplicitAny: as above
  async down(db: Kysely<any>, dialect): Promise<void> {
    if (dialect === 'postgres') {
      await sql`drop index if exists session_log_events_search`.execute(db);
      await sql`alter table session_log_events drop column if exists search`.execute(db);
      return;
    }
    await sql`drop trigger if exists session_log_events_search`.execute(db);
    await sql`drop table if exists session_log_search`.execute(db);
  },
};
