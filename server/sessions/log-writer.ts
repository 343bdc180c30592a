/**
 * Where log batches are stored: off the event loop that relays session bytes. On SQLite every statement is
 * synchronous (better-sqlite3), so storing a 200-event batch on the relay's thread holds every session's bytes
 * for as long; a worker thread with its own connection to the same file (WAL: the main thread's readers are not
 * blocked) stores them instead. PostgreSQL's driver is asynchronous already: its batches stay on the main thread.
 */
import { join } from 'node:path';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import type { LogBatch } from '../../protocol/gateway-channel';
import type { ServiceContext } from '../services/context';
import { type AppendLogResult, appendLogBatch } from './session-logs';

export interface LogWriter {
  append(batch: LogBatch, gatewayId?: string): Promise<AppendLogResult>;
  close(): Promise<void>;
}

/** `workerData.portcullisWorker` of the log writer thread (cli/main.ts starts the thread's code instead of the CLI). */
export const LOG_WRITER_WORKER = 'log-writer';

export function inThreadLogWriter(ctx: ServiceContext): LogWriter {
  return { append: (batch, gatewayId) => appendLogBatch(ctx, batch, gatewayId), close: async () => {} };
}

type Reply = { id: number; result: AppendLogResult } | { id: number; error: string } | { ready: true } | { failed: string };

/**
 * Starts the writer thread on the SQLite store in `dataDir`. In the bundle (dist/cli.js) the thread runs the bundle
 * itself, which starts the writer instead of the CLI when it sees its workerData; from TypeScript sources (tests),
 * it runs log-writer-worker.ts through tsx.
 */
export async function startLogWriterThread(dataDir: string): Promise<LogWriter> {
  const data = { portcullisWorker: LOG_WRITER_WORKER, dataDir };
  const fromSources = __filename.endsWith('.ts');
  const worker = fromSources
    ? new Worker(join(__dirname, 'log-writer-worker.ts'), { workerData: data, execArgv: ['--import', 'tsx'] })
    : new Worker(__filename, { workerData: data, argv: [] });
  const pending = new Map<number, { resolve(result: AppendLogResult): void; reject(error: Error): void }>();
  let nextId = 1;
  let dead: Error | undefined;
  const failAll = (error: Error) => {
    dead = error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the log writer thread exited (${code}) before it was ready`)));
    worker.on('message', function onReady(message: Reply) {
      if ('ready' in message) {
        worker.off('message', onReady);
        worker.removeAllListeners('error');
        worker.removeAllListeners('exit');
        resolve();
      } else if ('failed' in message) reject(new Error(message.failed));
    });
  });
  worker.on('message', (message: Reply) => {
    if (!('id' in message)) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (!waiter) return;
    if ('error' in message) waiter.reject(new Error(message.error));
    else waiter.resolve(message.result);
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) => failAll(new Error(`the log writer thread exited (${code})`)));
  return {
    append(batch, gatewayId) {
      // Not acknowledged when the thread is gone: the gateway keeps the batch and sends it again.
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, batch, gatewayId });
      });
    },
    async close() {
      worker.removeAllListeners('exit');
      failAll(new Error('the control plane is stopping'));
      worker.postMessage({ close: true });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => worker.terminate().then(() => resolve()), 5_000);
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/** True in the writer thread (the bundle's entry checks this before running the CLI). */
export function isLogWriterThread(): boolean {
  return !isMainThread && (workerData as { portcullisWorker?: string } | null)?.portcullisWorker === LOG_WRITER_WORKER;
}
