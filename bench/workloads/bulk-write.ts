/** Workload 3: insertMany of 100,000 documents in batches of 1,000 into a fresh collection; documents/s. */
import { MongoClient } from 'mongodb';
import { BENCH_DB, type BenchDocument, benchDocument } from '../bench-data';
import { isVariantPath, scaled } from '../options';
import { microsSince } from '../stats';
import type { Workload } from './workload';

const FULL_COUNT = 100_000;
const BATCH = 1000;

export const bulkWriteWorkload: Workload = {
  name: 'bulkwrite',
  appliesTo: (path) => !isVariantPath(path),
  async run({ endpoint, options, path, repetition }) {
    const count = scaled(FULL_COUNT, options.scale, 100);
    const collectionName = `write_${path}_${repetition}`;
    // Built before the clock starts: the figure is the tunnel and the server, not making objects.
    const batches: BenchDocument[][] = [];
    for (let start = 0; start < count; start += BATCH) {
      batches.push(Array.from({ length: Math.min(BATCH, count - start) }, (_, i) => benchDocument(start + i)));
    }
    const client = new MongoClient(endpoint.mongoUri, { maxPoolSize: 1, serverSelectionTimeoutMS: 15_000 });
    try {
      const target = client.db(BENCH_DB).collection<BenchDocument>(collectionName);
      await target.drop().catch(() => undefined);
      await client.db(BENCH_DB).createCollection(collectionName);
      const start = process.hrtime.bigint();
      for (const batch of batches) await target.insertMany(batch, { ordered: true });
      const seconds = microsSince(start) / 1e6;
      const stored = await target.countDocuments();
      if (stored !== count) throw new Error(`${stored} documents were stored, expected ${count}`);
      await target.drop();
      return { writeDocsPerSec: count / seconds };
    } finally {
      await client.close();
    }
  },
};
