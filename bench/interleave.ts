/**
 * Operations on several paths in the same stretch of time: small blocks, path after path, the order rotating each
 * block, so that background load that comes and goes over a run (other work on a shared machine) weighs on every
 * path alike. Run one path after the other, the ratios between paths moved by tens of percent from run to run on a
 * busy 2-core machine, more than the differences they are meant to show.
 */
import type { PathName } from './options';

/**
 * `count` timed operations on each path, in blocks of `block`, path after path, the order rotating by one each
 * block. `op(path index, operation number)` returns one sample. An error names its path: it stops every path.
 * `around`, when given, runs each block (its argument) for one path: to set up and tear down what a block needs.
 */
export async function interleave(
  paths: readonly PathName[],
  count: number,
  block: number,
  op: (path: number, n: number) => Promise<number>,
  around?: (path: number, runBlock: () => Promise<void>) => Promise<void>,
): Promise<number[][]> {
  const samples = paths.map(() => [] as number[]);
  for (let first = 0, round = 0; first < count; first += block, round++) {
    for (let k = 0; k < paths.length; k++) {
      const path = (k + round) % paths.length;
      const runBlock = async () => {
        for (let n = first; n < Math.min(count, first + block); n++) samples[path].push(await op(path, n));
      };
      try {
        await (around ? around(path, runBlock) : runBlock());
      } catch (error) {
        throw new Error(`via ${paths[path]}: ${(error as Error).message}`);
      }
    }
  }
  return samples;
}
