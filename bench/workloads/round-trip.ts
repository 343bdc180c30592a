/**
 * Workload 1: sequential `ping` and `findOne` by _id, one connection per path; latency percentiles in µs.
 *
 * Every path runs in the same stretch of time: the operations go in small blocks, path after path (the order
 * rotating each block; see ../interleave.ts), so background load that comes and goes over a run (other work on a
 * shared machine) weighs on every path alike.
 */
import { type Db, MongoClient } from 'mongodb';
import { BENCH_DB, type BenchDocument, LOOKUP_COLLECTION, timedLookup } from '../bench-data';
import { interleave } from '../interleave';
import { INNER_TLS_PATHS, isVariantPath, type PathName, scaled } from '../options';
import { microsSince, percentile } from '../stats';
import type { Figures, InterleavedWorkload } from './workload';

const FULL_COUNT = 5000;
const WARM_UP = 50;
/** Operations per path in a row: long enough to keep a path's caches warm, short next to load swings. */
const PING_BLOCK = 50;
const FIND_BLOCK = 5;

export const roundTripWorkload: InterleavedWorkload = {
  name: 'roundtrip',
  appliesTo: (path) => !isVariantPath(path) || INNER_TLS_PATHS.includes(path),
  async runInterleaved(runs) {
    const count = scaled(FULL_COUNT, runs[0]?.options.scale ?? 1, 20);
    const clients = runs.map((run) => new MongoClient(run.endpoint.mongoUri, { maxPoolSize: 1, serverSelectionTimeoutMS: 15_000 }));
    try {
      const paths = runs.map((run) => run.path);
      const dbs = clients.map((client) => client.db(BENCH_DB));
      await interleave(paths, WARM_UP, WARM_UP, async (i) => {
        await dbs[i].command({ ping: 1 });
        return 0;
      });
      const pings = await interleave(paths, count, PING_BLOCK, async (i) => {
        const start = process.hrtime.bigint();
        await dbs[i].command({ ping: 1 });
        return microsSince(start);
      });
      const lookups = dbs.map((db: Db) => db.collection<BenchDocument>(LOOKUP_COLLECTION));
      const finds = await interleave(paths, count, FIND_BLOCK, (i, n) => timedLookup(lookups[i], n));
      return new Map<PathName, Figures>(
        runs.map((run, i) => [
          run.path,
          {
            pingP50: percentile(pings[i], 50),
            pingP99: percentile(pings[i], 99),
            findOneP50: percentile(finds[i], 50),
            findOneP99: percentile(finds[i], 99),
          },
        ]),
      );
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  },
};
