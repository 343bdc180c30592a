/**
 * Runs one bundled program as a separate Node process (tracked by test/bed/processes.ts, so it dies with the
 * bench), and waits for the line it prints when ready.
 */
import type { ChildProcess } from 'node:child_process';
import { captureOutput, spawnTracked, stopProcess } from '../test/bed/processes';

export interface NodeChild {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects when the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM (lets a CPU profile be written), SIGKILL after 8 s. */
  stop(): Promise<void>;
}

export interface NodeChildOptions {
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  label: string;
}

export function startNodeChild(script: string, args: string[], options: NodeChildOptions): NodeChild {
  const child = spawnTracked(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NODE_OPTIONS: '', ...options.env },
  });
  if (child.pid === undefined) throw new Error(`could not start the ${options.label}`);
  const output = captureOutput(child);
  return {
    child,
    pid: child.pid,
    output,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = output().match(pattern);
        if (match) return match;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`the ${options.label} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${redact(output())}`);
        }
        if (Date.now() > deadline) throw new Error(`the ${options.label} was not ready within ${timeoutMs} ms:\n${redact(output())}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stop: () => stopProcess(child, 8000),
  };
}

/** The bootstrap password must not reach an error message. */
function redact(text: string): string {
  return text.replace(/(Password:\s*)\S+/g, '$1[hidden]').slice(-4000);
}
