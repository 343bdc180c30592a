/**
 * Workload 4: 200 client connections, each running 200 sequential findOne; total ops/s, errors, p99 of the findOne
 * latencies, and the peak resident memory of the gateway, the control plane and the local proxy while it runs.
 * With `--replicas` it also runs on the replica paths (control planes on PostgreSQL behind HAProxy).
 */
import { MongoClient } from 'mongodb';
import { BENCH_DB, type BenchDocument, LOOKUP_COLLECTION, LOOKUP_COUNT } from '../bench-data';
import { isReplicaPath, isVariantPath, scaled } from '../options';
import { PeakRssSampler } from '../rss-sampler';
import { microsSince, percentile } from '../stats';
import type { Workload } from './workload';

const FULL_OPS_PER_CONNECTION = 200;

export const concurrencyWorkload: Workload = {
  name: 'concurrency',
  appliesTo: (path) => !isVariantPath(path) || isReplicaPath(path),
  async run({ endpoint, options }) {
    const connections = options.connections;
    const opsPerConnection = scaled(FULL_OPS_PER_CONNECTION, options.scale, 2);
    const client = new MongoClient(endpoint.mongoUri, {
      maxPoolSize: connections,
      minPoolSize: connections,
      maxConnecting: 8,
      waitQueueTimeoutMS: 120_000,
      serverSelectionTimeoutMS: 15_000,
    });
    let ready = 0;
    client.on('connectionReady', () => {
      ready++;
    });
    const { processes } = endpoint;
    const watched = processes ? [processes.gateway, processes.controlPlane, processes.proxy] : [];
    const sampler = new PeakRssSampler(watched);
    try {
      const lookup = client.db(BENCH_DB).collection<BenchDocument>(LOOKUP_COLLECTION);
      await client.db(BENCH_DB).command({ ping: 1 });
      // Every connection is open (and, through Portcullis, authenticated upstream) before the clock starts.
      const deadline = Date.now() + 120_000;
      while (ready < connections) {
        if (Date.now() > deadline) throw new Error(`only ${ready} of ${connections} connections opened within 120 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      sampler.start();
      let errors = 0;
      let done = 0;
      const latencies: number[] = [];
      const start = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: connections }, async (_, worker) => {
          for (let i = 0; i < opsPerConnection; i++) {
            try {
              const id = (worker * 31 + i) % LOOKUP_COUNT;
              const began = process.hrtime.bigint();
              const found = await lookup.findOne({ _id: id });
              latencies.push(microsSince(began));
              if (found?._id !== id) errors++;
              else done++;
            } catch {
              errors++;
            }
          }
        }),
      );
      const seconds = microsSince(start) / 1e6;
      const peaks = sampler.stop();
      const figures: Record<string, number> = {
        concurrentOpsPerSec: done / seconds,
        concurrentFindOneP99Ms: percentile(latencies, 99) / 1000,
        concurrentErrors: errors,
        connectionsOpened: ready,
      };
      if (watched.length > 0) {
        figures.gatewayPeakRssMiB = peaks.get(watched[0]) ?? Number.NaN;
        figures.controlPlanePeakRssMiB = peaks.get(watched[1]) ?? Number.NaN;
        figures.proxyPeakRssMiB = peaks.get(watched[2]) ?? Number.NaN;
      }
      return figures;
    } finally {
      sampler.stop();
      await client.close();
    }
  },
};
