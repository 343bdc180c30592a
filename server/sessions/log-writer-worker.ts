/**
 * The log writer thread (see log-writer.ts): its own connection to the SQLite store, storing each batch it is sent
 * with the same appendLogBatch as the main thread would, and answering with the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogBatch } from '../../protocol/gateway-channel';
import type { ServiceContext } from '../services/context';
import { openStore } from '../store/open-store';
import { isLogWriterThread } from './log-writer';
import { appendLogBatch } from './session-logs';

export async function runLogWriterThread(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('the log writer runs in a worker thread');
  const { dataDir } = workerData as { dataDir: string };
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore({ dataDir });
  } catch (error) {
    port.postMessage({ failed: `the log writer could not open the store: ${(error as Error).message}` });
    return;
  }
  // appendLogBatch uses only the store and the clock.
  const ctx = { store, now: () => new Date() } as unknown as ServiceContext;
  port.on('message', async (message: { id: number; batch: LogBatch; gatewayId?: string } | { close: true }) => {
    if ('close' in message) {
      await store.close();
      port.close();
      return;
    }
    try {
      port.postMessage({ id: message.id, result: await appendLogBatch(ctx, message.batch, message.gatewayId) });
    } catch (error) {
      port.postMessage({ id: message.id, error: (error as Error).message });
    }
  });
  port.postMessage({ ready: true });
}

// Run from sources (tests): this file is the thread's entry.
if (isLogWriterThread() && __filename.endsWith('log-writer-worker.ts')) void runLogWriterThread();
