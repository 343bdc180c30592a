import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { type ServeClientOptions, type ServedClient, serveClient } from './serve-client';

export type ListenForClientsOptions = Omit<ServeClientOptions, 'connectionId'> & { port?: number; host?: string };

/**
 * A TCP listener that serves each accepted connection with serveClient (for tests and local use). Connection
 * ids are `conn_<random>`. close() stops listening and closes the connections still open.
 */
export function listenForClients(options: ListenForClientsOptions): Promise<{ port: number; close(): Promise<void> }> {
  const { port = 0, host = '127.0.0.1', ...serveOptions } = options;
  const served = new Set<ServedClient>();
  const server = createServer({ noDelay: true }, (socket: Socket) => {
    const client = serveClient(socket, { ...serveOptions, connectionId: `conn_${randomBytes(6).toString('hex')}` });
    served.add(client);
    client.done.then(() => served.delete(client));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('the gateway listener has no TCP address'));
        return;
      }
      resolve({
        port: address.port,
        async close() {
          const closed = new Promise<void>((r) => server.close(() => r()));
          const pending = [...served].map((c) => {
            c.close('the gateway listener closed');
            return c.done;
          });
          await Promise.all([closed, ...pending]);
        },
      });
    });
  });
}
