/**
 * Workload 8: log storage off the relay's path. While background connections (16) run a steady stream of logged
 * commands (finds, one insert in eight), `findOne` by _id and `ping` on a connection of their own,
 * p50 and p99. On the plain-HTTP Portcullis path (log batches stored on the control plane's writer thread) and on a
 * stack whose control plane stores them on the main thread, the relay's event loop (`portcullis-main-thread`,
 * PORTCULLIS_LOG_WRITER_THREAD=off): after and before.
 *
 * Interleaved in blocks as the round trip is: for each block the background load starts on one path, runs for
 * WARM_UP_MS so that log batches flow (the gateway uploads every 250 ms or 200 events), then the block's operations
 * are timed, then the load stops and the next path's block begins. Only one path carries the load at a time; both
 * see the same machine. The background rate (logged commands a second during the timed part) is reported beside.
 */
import { type Collection, MongoClient } from 'mongodb';
import {
  BENCH_DB,
  type BenchDocument,
  EMPTY_COLLECTION,
  LOOKUP_COLLECTION,
  SMALL_COLLECTION,
  SMALL_COUNT,
  timedLookup,
} from '../bench-data';
import { interleave } from '../interleave';
import { type PathName, scaled } from '../options';
import { microsSince, percentile } from '../stats';
import type { Figures, InterleavedWorkload } from './workload';

const FULL_COUNT = 5000;
/** findOne (each after a ping) per path in a row; the block also carries WARM_UP_MS of load before it. */
const BLOCK = 10;
const WARM_UP_MS = 300;

export const logHeavyWorkload: InterleavedWorkload = {
  name: 'logheavy',
  appliesTo: (path) => path === 'portcullis' || path === 'portcullis-main-thread',
  async runInterleaved(runs) {
    const options = runs[0]?.options;
    const count = scaled(FULL_COUNT, options?.scale ?? 1, 20);
    const connections = options?.logConnections ?? 16;
    const timed = runs.map((run) => new MongoClient(run.endpoint.mongoUri, { maxPoolSize: 1, serverSelectionTimeoutMS: 15_000 }));
    const loads = runs.map(
      (run) => new BackgroundLoad(run.endpoint.mongoUri, connections, `heavy_${run.path.replace(/-/g, '_')}_${run.repetition}`),
    );
    try {
      const paths = runs.map((run) => run.path);
      // Every connection opened (through Portcullis: relayed and authenticated upstream) before any clock starts.
      for (const load of loads) {
        load.start();
        await sleep(1000);
        await load.stop();
      }
      const lookups = timed.map((client) => client.db(BENCH_DB).collection<BenchDocument>(LOOKUP_COLLECTION));
      for (const [i, client] of timed.entries()) {
        await client.db(BENCH_DB).command({ ping: 1 });
        await lookups[i].findOne({ _id: 0 });
      }
      const pings = paths.map(() => [] as number[]);
      const background = paths.map(() => ({ commands: 0, seconds: 0 }));
      const finds = await interleave(
        paths,
        count,
        BLOCK,
        async (i, n) => {
          const start = process.hrtime.bigint();
          await timed[i].db(BENCH_DB).command({ ping: 1 });
          pings[i].push(microsSince(start));
          return timedLookup(lookups[i], n);
        },
        async (i, runBlock) => {
          loads[i].start();
          try {
            await sleep(WARM_UP_MS);
            const done = loads[i].done;
            const start = process.hrtime.bigint();
            await runBlock();
            background[i].seconds += microsSince(start) / 1e6;
            background[i].commands += loads[i].done - done;
          } finally {
            await loads[i].stop();
          }
        },
      );
      return new Map<PathName, Figures>(
        runs.map((run, i) => [
          run.path,
          {
            logHeavyFindOneP50: percentile(finds[i], 50),
            logHeavyFindOneP99: percentile(finds[i], 99),
            logHeavyPingP50: percentile(pings[i], 50),
            logHeavyPingP99: percentile(pings[i], 99),
            logHeavyCommandsPerSec: background[i].commands / background[i].seconds,
          },
        ]),
      );
    } finally {
      await Promise.all(loads.map((load) => load.close()));
      await Promise.all(timed.map((client) => client.close()));
    }
  },
};

/** `connections` connections, each running logged commands back to back while started. */
class BackgroundLoad {
  /** Commands completed since the client was made. */
  done = 0;
  private readonly client: MongoClient;
  private readonly small: Collection<BenchDocument>;
  private readonly inserts: Collection;
  private readonly empty: Collection;
  private running = false;
  private workers: Promise<void>[] = [];
  private error: Error | undefined;

  constructor(
    uri: string,
    private readonly connections: number,
    insertCollection: string,
  ) {
    this.client = new MongoClient(uri, { maxPoolSize: connections, serverSelectionTimeoutMS: 15_000 });
    this.small = this.client.db(BENCH_DB).collection<BenchDocument>(SMALL_COLLECTION);
    this.inserts = this.client.db(BENCH_DB).collection(insertCollection);
    this.empty = this.client.db(BENCH_DB).collection(EMPTY_COLLECTION);
  }

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.connections }, (_, worker) => this.work(worker));
  }

  /** Waits for every connection's command in flight; throws the first error a command met. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    if (this.error) throw new Error(`background load: ${this.error.message}`);
  }

  async close(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    await this.inserts.drop().catch(() => undefined);
    await this.client.close();
  }

  private async work(worker: number): Promise<void> {
    for (let i = 0; this.running; i++) {
      try {
        // Mostly finds that FerretDB answers at once (the log pipeline is what is under load), one insert and one
        // lookup in a small collection in every eight.
        const kind = (worker + i) % 8;
        if (kind === 0) {
          await this.inserts.insertOne({ worker, i, note: 'x'.repeat(100) });
        } else if (kind === 1) {
          const id = (worker + i) % SMALL_COUNT;
          const found = await this.small.findOne({ _id: id });
          if (found?._id !== id) throw new Error(`findOne({_id: ${id}}) returned ${JSON.stringify(found)}`);
        } else if ((await this.empty.findOne({ worker, i })) !== null) {
          throw new Error(`the ${EMPTY_COLLECTION} collection is not empty`);
        }
        this.done++;
      } catch (error) {
        this.error ??= error as Error;
        this.running = false;
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
