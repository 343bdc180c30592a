/** Workload 1: sequential `ping` and `findOne` by _id on one connection; latency percentiles in µs. */
import { MongoClient } from 'mongodb';
import { BENCH_DB, type BenchDocument, LOOKUP_COLLECTION, LOOKUP_COUNT } from '../bench-data';
import { scaled } from '../options';
import { microsSince, percentile } from '../stats';
import type { Workload } from './workload';

const FULL_COUNT = 5000;
const WARM_UP = 50;

export const roundTripWorkload: Workload = {
  name: 'roundtrip',
  appliesTo: () => true,
  async run({ endpoint, options }) {
    const count = scaled(FULL_COUNT, options.scale, 20);
    const client = new MongoClient(endpoint.mongoUri, { maxPoolSize: 1, serverSelectionTimeoutMS: 15_000 });
    try {
      const db = client.db(BENCH_DB);
      const lookup = db.collection<BenchDocument>(LOOKUP_COLLECTION);
      for (let i = 0; i < WARM_UP; i++) await db.command({ ping: 1 });
      const pings: number[] = [];
      for (let i = 0; i < count; i++) {
        const start = process.hrtime.bigint();
        await db.command({ ping: 1 });
        pings.push(microsSince(start));
      }
      const finds: number[] = [];
      for (let i = 0; i < count; i++) {
        const id = (i * 7919) % LOOKUP_COUNT;
        const start = process.hrtime.bigint();
        const found = await lookup.findOne({ _id: id });
        finds.push(microsSince(start));
        if (found?._id !== id) throw new Error(`findOne({_id: ${id}}) returned ${JSON.stringify(found)}`);
      }
      return {
        pingP50: percentile(pings, 50),
        pingP99: percentile(pings, 99),
        findOneP50: percentile(finds, 50),
        findOneP99: percentile(finds, 99),
      };
    } finally {
      await client.close();
    }
  },
};
