/**
 * `npm run bench:search [-- --events N]`: how fast `GET /sessions/search` answers over a large log, on SQLite (FTS5)
 * and PostgreSQL (tsvector + GIN), through the same code the API runs (server/sessions/session-search.ts). Fills each
 * store with N command events (default 1,000,000) over 1,000 sessions, as gateways would store them (insert with the
 * index maintained on the way in), then times, 20 times each, the first page (50 hits) of:
 * - a rare word (an email that appears in 10 events),
 * - two words that both match every event (the worst case for an index: every row matches),
 * - a word plus a user filter (a member looking at their own sessions),
 * and prints p50 and max per store. Target: under 200 ms.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import type { SessionLogEvent } from '../protocol/session-log';
import type { ServiceContext } from '../server/services/context';
import { searchSessionLogs } from '../server/sessions/session-search';
import { openStore } from '../server/store/open-store';
import { insertSessionLogBatch } from '../server/store/session-log-events';
import type { Store } from '../server/store/store';
import { startPostgres } from '../test/bed/postgres';

const SESSIONS = 1000;
const BATCH = 2000;
const RUNS = 20;

async function fill(store: Store, events: number, log: (line: string) => void): Promise<void> {
  const time = '2026-12-01T00:00:00.000Z';
  await store.db
    .insertInto('users')
    .values(
      ['usr_admin', 'usr_member'].map((id) => ({
        id,
        email: `${id}@example.com`,
        name: id,
        password_hash: 'x',
        created_at: time,
        updated_at: time,
      })),
    )
    .execute();
  await store.db
    .insertInto('projects')
    .values({ id: 'prj_bench', name: 'bench', data_key_wrapped: 'x', mfa_enforced_method: null, created_at: time })
    .execute();
  await store.db
    .insertInto('project_members')
    .values([
      { project_id: 'prj_bench', user_id: 'usr_admin', role: 'admin', created_at: time },
      { project_id: 'prj_bench', user_id: 'usr_member', role: 'member', created_at: time },
    ])
    .execute();
  for (let s = 0; s < SESSIONS; s += 500) {
    await store.db
      .insertInto('sessions')
      .values(
        Array.from({ length: Math.min(500, SESSIONS - s) }, (_, i) => ({
          id: `ses_${String(s + i).padStart(6, '0')}`,
          project_id: 'prj_bench',
          user_id: (s + i) % 10 === 0 ? 'usr_member' : 'usr_admin',
          user_email: 'someone@example.com',
          resource_id: 'res_bench',
          resource_name: 'orders-db',
          account_id: 'acc_bench',
          account_name: 'reader',
          gateway_id: 'gw_bench',
          state: 'ended' as const,
          created_at: time,
          started_at: time,
          ended_at: time,
          expires_at: time,
          last_activity_at: time,
          end_reason: 'stopped' as const,
          ended_by: null,
          client_address: null,
          client_agent: null,
          mfa_method: null,
          reason: null,
        })),
      )
      .execute();
  }
  const started = performance.now();
  const perSession = Math.ceil(events / SESSIONS);
  let stored = 0;
  for (let s = 0; s < SESSIONS && stored < events; s++) {
    for (let first = 0; first < perSession && stored < events; first += BATCH) {
      const count = Math.min(BATCH, perSession - first, events - stored);
      const batch: Array<SessionLogEvent & { seq: number }> = Array.from({ length: count }, (_, i) => {
        const n = stored + i;
        // Ten events name the rare customer; every event names orders and a status.
        const customer = n % (events / 10) === 7 ? 'rare.customer@example.com' : `customer${n % 5000}@example.com`;
        return {
          seq: first + i,
          kind: 'command',
          time: new Date(Date.parse(time) + n * 10).toISOString(),
          connectionId: 'c1',
          database: 'shop',
          command: 'find',
          collection: 'orders',
          input: `{"find":"orders","filter":{"customer":"${customer}","status":"open","n":${n}}}`,
          outcome: 'ok',
          durationMs: 1,
        };
      });
      await store.transaction((trx) =>
        insertSessionLogBatch(trx, { sessionId: `ses_${String(s).padStart(6, '0')}`, origin: 'bench', events: batch }),
      );
      stored += count;
    }
    if (s % 100 === 99) log(`  ${stored.toLocaleString('en')} events stored (${Math.round((performance.now() - started) / 1000)} s)`);
  }
  log(`  ${stored.toLocaleString('en')} events stored in ${Math.round((performance.now() - started) / 1000)} s`);
}

async function time(run: () => Promise<{ items: unknown[] }>): Promise<{ p50: number; max: number; hits: number }> {
  const samples: number[] = [];
  let hits = 0;
  await run(); // warm the caches, as a running server's are
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    hits = (await run()).items.length;
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length / 2)], max: samples[samples.length - 1], hits };
}

async function measure(name: string, store: Store, events: number, log: (line: string) => void): Promise<string[]> {
  log(`${name}: filling ${events.toLocaleString('en')} events`);
  await fill(store, events, log);
  // A running PostgreSQL has statistics from autovacuum; right after a bulk fill it has none, and without them the
  // planner sorts every match of a common word instead of walking the newest rows.
  if (store.dialect === 'postgres') await sql`analyze`.execute(store.db);
  const ctx = { store } as unknown as ServiceContext;
  const admin = { userId: 'usr_admin', email: 'usr_admin@example.com' };
  const member = { userId: 'usr_member', email: 'usr_member@example.com' };
  const cases: Array<[string, () => Promise<{ items: unknown[] }>]> = [
    ['rare email (10 events)', () => searchSessionLogs(ctx, admin, { q: 'rare.customer@example.com', limit: 50 })],
    ['two words in every event', () => searchSessionLogs(ctx, admin, { q: 'orders open', limit: 50 })],
    ['member, own sessions only', () => searchSessionLogs(ctx, member, { q: 'customer42', limit: 50 })],
  ];
  const lines: string[] = [];
  for (const [label, run] of cases) {
    const figure = await time(run);
    lines.push(
      `| ${name} | ${label} | ${figure.hits} | ${figure.p50.toFixed(1)} | ${figure.max.toFixed(1)} | ${figure.max < 200 ? 'met' : 'MISSED'} |`,
    );
    log(`  ${label}: p50 ${figure.p50.toFixed(1)} ms, max ${figure.max.toFixed(1)} ms (${figure.hits} hits)`);
  }
  return lines;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' } } });
  const events = Number(values.events);
  if (!Number.isInteger(events) || events < 1000) throw new Error('--events must be a whole number of at least 1000');
  const log = (line: string) => process.stderr.write(`[bench:search] ${line}\n`);
  const rows: string[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-search-'));
  const sqlite = await openStore({ dataDir });
  try {
    rows.push(...(await measure('SQLite (FTS5)', sqlite, events, log)));
  } finally {
    await sqlite.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const pg = await startPostgres();
  const postgres = await openStore({ url: pg.url });
  try {
    rows.push(...(await measure('PostgreSQL (GIN)', postgres, events, log)));
  } finally {
    await postgres.close();
    await pg.stop();
  }
  process.stdout.write(
    [
      `Search over ${events.toLocaleString('en')} log events in ${SESSIONS} sessions: first page (50 hits), ${RUNS} runs after one warm-up`,
      '',
      '| store | query | hits | p50 ms | max ms | under 200 ms |',
      '| --- | --- | ---: | ---: | ---: | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`[bench:search] failed: ${(error as Error).stack}\n`);
    process.exit(1);
  },
);
