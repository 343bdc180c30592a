/**
 * Workload 6: the tunnel alone, MongoDB left out. A TCP echo server stands where the database would; the direct
 * path talks to it, `ssh -L` forwards to it, and Portcullis reaches it through the local proxy, the relay and a
 * gateway whose streams go to the echo (bench/children/echo-gateway.ts).
 */
import { echoRoundTrips, echoThroughput } from '../echo-client';
import { isVariantPath, scaled } from '../options';
import type { Workload } from './workload';

const FULL_MESSAGES = 5000;
const FULL_BYTES = 100 * 1e6;

export const rawTunnelWorkload: Workload = {
  name: 'raw',
  appliesTo: (path) => !isVariantPath(path),
  async run({ endpoint, options }) {
    if (endpoint.echoPort === undefined) throw new Error('this path has no echo port');
    const trips = await echoRoundTrips(endpoint.echoPort, scaled(FULL_MESSAGES, options.scale, 20));
    const mbps = await echoThroughput(endpoint.echoPort, scaled(FULL_BYTES, options.scale, 1e6));
    return { rawRoundTripP50: trips.p50, rawRoundTripP99: trips.p99, rawMBps: mbps };
  },
};
