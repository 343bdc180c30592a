/**
 * The documents the workloads read and write: fixed-size small documents, so that "200,000 documents" is
 * about 50 MB whatever the run, and a small lookup collection for findOne by _id.
 */
import { calculateObjectSize } from 'bson';
import type { Collection, MongoClient } from 'mongodb';
import { microsSince } from './stats';

export const BENCH_DB = 'bench';
export const LOOKUP_COLLECTION = 'lookup';
export const BULK_COLLECTION = 'bulk';
export const LOOKUP_COUNT = 1000;
/** Never written: a `find` on it is a logged command that FerretDB answers without reading anything. */
export const EMPTY_COLLECTION = 'empty';
/** The log-heavy workload's background reads: a few documents, so that each `find` is cheap for FerretDB. */
export const SMALL_COLLECTION = 'small';
export const SMALL_COUNT = 10;

export interface BenchDocument {
  _id: number;
  name: string;
  email: string;
  n: number;
  active: boolean;
  tags: string[];
  note: string;
}

/** About 250 bytes of BSON; the same size for every id below 10^8. */
export function benchDocument(id: number): BenchDocument {
  const padded = String(id).padStart(8, '0');
  return {
    _id: id,
    name: `user-${padded}`,
    email: `user-${padded}@example.com`,
    n: id % 1000,
    active: id % 2 === 0,
    tags: ['alpha', 'beta', 'gamma'],
    note: 'x'.repeat(140),
  };
}

export const BENCH_DOCUMENT_BYTES = calculateObjectSize(benchDocument(0));

/** Fills the lookup and bulk collections (through the direct path, before any timing). Returns the bulk bytes. */
export async function seedBenchData(client: MongoClient, bulkCount: number): Promise<number> {
  const db = client.db(BENCH_DB);
  await db.dropDatabase();
  await insertInBatches(client, LOOKUP_COLLECTION, 0, LOOKUP_COUNT);
  await insertInBatches(client, SMALL_COLLECTION, 0, SMALL_COUNT);
  await insertInBatches(client, BULK_COLLECTION, 0, bulkCount);
  const stored = await db.collection(BULK_COLLECTION).countDocuments();
  if (stored !== bulkCount) throw new Error(`seeding stored ${stored} bulk documents, expected ${bulkCount}`);
  return bulkCount * BENCH_DOCUMENT_BYTES;
}

async function insertInBatches(client: MongoClient, collection: string, first: number, count: number): Promise<void> {
  const target = client.db(BENCH_DB).collection<BenchDocument>(collection);
  for (let start = first; start < first + count; start += 1000) {
    const end = Math.min(first + count, start + 1000);
    await target.insertMany(
      Array.from({ length: end - start }, (_, i) => benchDocument(start + i)),
      { ordered: false },
    );
  }
}

/**
 * The timed `findOne` by `_id` of the round-trip figures: operation `n` looks up a spread-out id of the lookup
 * collection and checks the answer. Returns microseconds.
 */
export async function timedLookup(lookups: Collection<BenchDocument>, n: number): Promise<number> {
  const id = (n * 7919) % LOOKUP_COUNT;
  const start = process.hrtime.bigint();
  const found = await lookups.findOne({ _id: id });
  const micros = microsSince(start);
  if (found?._id !== id) throw new Error(`findOne({_id: ${id}}) returned ${JSON.stringify(found)}`);
  return micros;
}
