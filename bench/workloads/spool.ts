/**
 * Workload 7: what the gateway's write-ahead spool costs. One bench program running the real gateway agent
 * (bench/children/gateway-agent.ts) twice on the plain-HTTP control plane, with the spool (`portcullis-spool`) and
 * without (`portcullis-no-spool`), so that only the spool differs; the gateway as shipped (`portcullis gateway start`,
 * always spooling: the `portcullis` path) runs beside them for reference. Sequential `ping`, a `find` on an empty
 * collection and `findOne` by _id, interleaved in blocks as in the round trip, one connection per path.
 *
 * `ping` is handshake chatter: counted, neither rendered nor spooled, so its figure is the spool's cost to everything
 * else on the gateway (its timer, its fsync). `findOne` is spooled, but FerretDB's lookup takes tens of ms; the
 * empty `find` is a logged command FerretDB answers in about a millisecond, where the spool's writes (a record before
 * the command is forwarded, another with its outcome) can show.
 */
import { type Db, MongoClient } from 'mongodb';
import { BENCH_DB, type BenchDocument, EMPTY_COLLECTION, LOOKUP_COLLECTION, timedLookup } from '../bench-data';
import { interleave } from '../interleave';
import { type PathName, scaled } from '../options';
import { microsSince, percentile } from '../stats';
import type { Figures, InterleavedWorkload } from './workload';

/** `ping` and the empty `find` take about a millisecond: more of them, for a p50 precise enough for a 5% target. */
const FULL_QUICK_COUNT = 50_000;
/** `findOne` by _id takes FerretDB tens of ms. */
const FULL_FIND_COUNT = 5000;
const WARM_UP = 50;
const PING_BLOCK = 20;
const FIND_BLOCK = 5;

export const spoolWorkload: InterleavedWorkload = {
  name: 'spool',
  appliesTo: (path) => path === 'portcullis' || path === 'portcullis-spool' || path === 'portcullis-no-spool',
  async runInterleaved(runs) {
    const scale = runs[0]?.options.scale ?? 1;
    const quickCount = scaled(FULL_QUICK_COUNT, scale, 20);
    const findCount = scaled(FULL_FIND_COUNT, scale, 20);
    const clients = runs.map((run) => new MongoClient(run.endpoint.mongoUri, { maxPoolSize: 1, serverSelectionTimeoutMS: 15_000 }));
    try {
      const paths = runs.map((run) => run.path);
      const dbs = clients.map((client) => client.db(BENCH_DB));
      const empties = dbs.map((db: Db) => db.collection(EMPTY_COLLECTION));
      await interleave(paths, WARM_UP, WARM_UP, async (i) => {
        await dbs[i].command({ ping: 1 });
        await empties[i].findOne({ n: 1 });
        return 0;
      });
      const pings = await interleave(paths, quickCount, PING_BLOCK, async (i) => {
        const start = process.hrtime.bigint();
        await dbs[i].command({ ping: 1 });
        return microsSince(start);
      });
      const emptyFinds = await interleave(paths, quickCount, PING_BLOCK, async (i, n) => {
        const start = process.hrtime.bigint();
        const found = await empties[i].findOne({ n });
        const micros = microsSince(start);
        if (found !== null) throw new Error(`the ${EMPTY_COLLECTION} collection is not empty`);
        return micros;
      });
      const lookups = dbs.map((db: Db) => db.collection<BenchDocument>(LOOKUP_COLLECTION));
      const finds = await interleave(paths, findCount, FIND_BLOCK, (i, n) => timedLookup(lookups[i], n));
      return new Map<PathName, Figures>(
        runs.map((run, i) => [
          run.path,
          {
            spoolPingP50: percentile(pings[i], 50),
            spoolEmptyFindP50: percentile(emptyFinds[i], 50),
            spoolFindOneP50: percentile(finds[i], 50),
          },
        ]),
      );
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  },
};
