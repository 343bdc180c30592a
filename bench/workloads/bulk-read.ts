/** Workload 2: one `find` streaming the whole bulk collection (200,000 small documents, ~50 MB); MB/s. */
import { MongoClient } from 'mongodb';
import { BENCH_DB, BULK_COLLECTION } from '../bench-data';
import { INNER_TLS_PATHS, isVariantPath } from '../options';
import { microsSince } from '../stats';
import type { Workload } from './workload';

export const bulkReadWorkload: Workload = {
  name: 'bulkread',
  appliesTo: (path) => !isVariantPath(path) || INNER_TLS_PATHS.includes(path),
  async run({ endpoint, bed }) {
    const client = new MongoClient(endpoint.mongoUri, { maxPoolSize: 1, serverSelectionTimeoutMS: 15_000 });
    try {
      const bulk = client.db(BENCH_DB).collection(BULK_COLLECTION);
      await client.db(BENCH_DB).command({ ping: 1 });
      const start = process.hrtime.bigint();
      let count = 0;
      for await (const _ of bulk.find({})) count++;
      const seconds = microsSince(start) / 1e6;
      if (count !== bed.bulkCount) throw new Error(`the find returned ${count} documents, expected ${bed.bulkCount}`);
      return { readMBps: bed.bulkBytes / 1e6 / seconds };
    } finally {
      await client.close();
    }
  },
};
