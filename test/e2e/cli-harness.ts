/**
 * Runs the real `portcullis` command for the CLI end-to-end tests: the esbuild bundle (same options as
 * scripts/build.mjs, written to a per-run file under dist/ so parallel test files do not overwrite each other),
 * each run with its own config folder and HOME so nothing touches the real home.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { captureOutput, type ProcessResult, runProcess, spawnTracked, stopProcess, trackTempDir } from '../bed/processes';

const ROOT = join(__dirname, '..', '..');

export type CliResult = ProcessResult;

/**
 * Bundles cli/main.ts like `npm run build` does; returns the path of the bundle. PORTCULLIS_CLI_BUNDLE names an
 * existing bundle to test instead (e.g. dist/cli.js after `npm run build`).
 */
export async function buildCli(): Promise<string> {
  if (process.env.PORTCULLIS_CLI_BUNDLE) return process.env.PORTCULLIS_CLI_BUNDLE;
  const outfile = join(ROOT, 'dist', `cli-e2e-${process.pid}-${Date.now()}.js`);
  await build({
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    absWorkingDir: ROOT,
    entryPoints: ['cli/main.ts'],
    outfile,
    external: ['better-sqlite3', 'better-sqlite3-node20', 'argon2', '@napi-rs/keyring', 'pg-native'],
  });
  return outfile;
}

export function removeBuild(path: string): void {
  if (path !== process.env.PORTCULLIS_CLI_BUNDLE) rmSync(path, { force: true });
}

/** A user of the CLI: a config folder and a HOME of their own. */
export interface CliUser {
  home: string;
  configDir: string;
  env: NodeJS.ProcessEnv;
}

export function newCliUser(label: string): CliUser {
  const home = trackTempDir(mkdtempSync(join(tmpdir(), `portcullis-cli-${label}-`)));
  const configDir = join(home, 'config');
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    PORTCULLIS_CONFIG_DIR: configDir,
    MONGOSH_NO_UPDATE_CHECK: '1',
    DO_NOT_TRACK: '1',
    // No Secret Service here: the token goes to the 0600 file, which is what these tests check.
    DBUS_SESSION_BUS_ADDRESS: '',
  };
  return { home, configDir, env };
}

export class CliRunner {
  readonly outputs: string[] = [];
  readonly processes: ChildProcess[] = [];

  constructor(private readonly bundle: string) {}

  /** Runs one command to completion, with `input` on stdin. */
  async run(
    user: CliUser,
    args: string[],
    options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
  ): Promise<CliResult> {
    const result = await runProcess(process.execPath, [this.bundle, ...args], {
      cwd: user.home,
      env: { ...user.env, ...options.env },
      input: options.input,
      timeoutMs: options.timeoutMs ?? 60_000,
    });
    this.outputs.push(`$ portcullis ${args.join(' ')}\n${result.stdout}${result.stderr}`);
    return result;
  }

  /** Runs a command that keeps running (server, gateway, access); the caller stops it. */
  start(user: CliUser, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): RunningCli {
    const child = spawnTracked(process.execPath, [this.bundle, ...args], {
      cwd: user.home,
      env: { ...user.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (options.input !== undefined) child.stdin?.write(options.input);
    this.processes.push(child);
    const output = captureOutput(child);
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const running: RunningCli = {
      child,
      output,
      stdout: () => stdout,
      waitFor: (pattern, timeoutMs = 30_000) => waitForOutput(child, () => output(), pattern, timeoutMs),
      exited: () =>
        child.exitCode !== null || child.signalCode !== null
          ? Promise.resolve(child.exitCode)
          : new Promise((resolve) => child.once('exit', (code) => resolve(code))),
      stop: async () => {
        await stopProcess(child, 8_000);
        this.outputs.push(`$ portcullis ${args.join(' ')} (stopped)\n${output()}`);
      },
    };
    return running;
  }
}

export interface RunningCli {
  child: ChildProcess;
  output(): string;
  stdout(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited(): Promise<number | null>;
  stop(): Promise<void>;
}

async function waitForOutput(child: ChildProcess, output: () => string, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = output().match(pattern);
    if (match) return match;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the process exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${output()}`);
    }
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The command line of a running process, as any user on the machine can read it. */
export function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Every file under a folder, with its content, for secret scans. */
export function filesUnder(dir: string): { path: string; content: Buffer; mode: number }[] {
  const out: { path: string; content: Buffer; mode: number }[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push({ path, content: readFileSync(path), mode: statSync(path).mode & 0o777 });
    }
  };
  walk(dir);
  return out;
}

/** The last line of stdout that parses as JSON. */
export function lastJson<T>(stdout: string): T {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      return JSON.parse(line) as T;
    } catch {
      // not JSON
    }
  }
  throw new Error(`no JSON line in:\n${stdout}`);
}
