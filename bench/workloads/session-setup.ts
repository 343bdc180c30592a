/**
 * Workload 5 (Portcullis only): from the access call (proxy-core's startAccess, as the CLI and the extension
 * make it) to the first successful command through the local URI; p50 over 20 sessions, in ms.
 */
import { MongoClient } from 'mongodb';
import { startAccess } from '../../proxy-core/access';
import { scaled } from '../options';
import { microsSince, percentile } from '../stats';
import type { Workload } from './workload';

const FULL_SESSIONS = 20;

export const sessionSetupWorkload: Workload = {
  name: 'setup',
  appliesTo: (path) => path === 'portcullis',
  async run({ bed, options }) {
    const stack = bed.portcullis;
    if (!stack) throw new Error('session setup needs the Portcullis path');
    const sessions = scaled(FULL_SESSIONS, options.scale, 3);
    const samples: number[] = [];
    for (let i = 0; i < sessions; i++) {
      const start = process.hrtime.bigint();
      const handle = await startAccess({
        server: stack.server,
        token: stack.token,
        accountId: stack.mongoAccountId,
        clientAgent: 'portcullis-bench',
      });
      const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 15_000 });
      try {
        await client.db('admin').command({ ping: 1 });
        samples.push(microsSince(start) / 1000);
      } finally {
        await client.close();
        await handle.stop();
      }
    }
    return { setupP50Ms: percentile(samples, 50), setupMaxMs: Math.max(...samples) };
  },
};
