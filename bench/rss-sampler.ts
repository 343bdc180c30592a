/**
 * Peak resident memory of other processes, from /proc/<pid>/status. VmHWM is the kernel's own high-water mark;
 * writing 5 to /proc/<pid>/clear_refs resets it, so a workload's peak is not the peak of an earlier one. A
 * sampler of VmRSS runs as well, in case clear_refs is not allowed.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface MemoryReading {
  rssMiB: number;
  hwmMiB: number;
}

export function readMemory(pid: number): MemoryReading {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => {
    const match = status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  };
  return { rssMiB: field('VmRSS'), hwmMiB: field('VmHWM') };
}

export class PeakRssSampler {
  private readonly peaks = new Map<number, number>();
  /** Pids whose VmHWM was reset, so that it means "since start()". */
  private readonly hwmReset = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pids: number[],
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    for (const pid of this.pids) {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
        this.hwmReset.add(pid);
      } catch {
        // Not allowed here: the sampled VmRSS still gives the peak, a little less exactly.
      }
      this.peaks.set(pid, readMemory(pid).rssMiB);
    }
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  /** Stops sampling; the peak RSS in MiB of each pid since start(). */
  stop(): Map<number, number> {
    clearInterval(this.timer);
    this.sample(true);
    return new Map(this.peaks);
  }

  private sample(withHwm = false): void {
    for (const pid of this.pids) {
      try {
        const { rssMiB, hwmMiB } = readMemory(pid);
        const best = Math.max(this.peaks.get(pid) ?? 0, rssMiB, withHwm && this.hwmReset.has(pid) ? hwmMiB : 0);
        this.peaks.set(pid, best);
      } catch {
        // The process is gone; keep what was seen.
      }
    }
  }
}
