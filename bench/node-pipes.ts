/**
 * The `node-pipes` path: three plain Node `pipe()` forwarders (bench/children/pipe-forwarder.ts), each in its own
 * process, chained in front of the given targets. It is as many Node hops as the Portcullis path has (local proxy,
 * control plane relay, gateway) with none of its work, so Portcullis ÷ node-pipes is what our code costs on top.
 */
import type { BenchPrograms } from './build-children';
import { type NodeChild, startNodeChild } from './node-child';

export const NODE_PIPE_HOPS = 3;

export interface PipeChain {
  /** Per target (same order): the port on 127.0.0.1 at the head of its chain. */
  ports: number[];
  stop(): Promise<void>;
}

/** Starts the hops from the far end, each forwarding to the one started before it. */
export async function startPipeChain(programs: BenchPrograms, targets: number[]): Promise<PipeChain> {
  const hops: NodeChild[] = [];
  const stop = async () => {
    for (const hop of hops.reverse()) await hop.stop();
  };
  try {
    let next = targets;
    for (let i = NODE_PIPE_HOPS; i >= 1; i--) {
      const hop = startNodeChild(programs.child['pipe-forwarder'], next.map(String), { label: `pipe forwarder ${i}` });
      hops.push(hop);
      next = (JSON.parse((await hop.waitFor(/\{"ports":\[[\d,]+\]\}/))[0]) as { ports: number[] }).ports;
    }
    return { ports: next, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
