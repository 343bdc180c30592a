/**
 * Bench child: one hop of the `node-pipes` path, the floor a Node forwarder can reach. For each target port in
 * argv it listens on a free port of 127.0.0.1 and forwards every connection with `pipe()` both ways, nothing else:
 * no framing, no parsing, Nagle off as on every other path. Three of these, each in its own process, chained
 * in front of FerretDB (and of the echo server) stand beside the three Node processes of the Portcullis path.
 * Prints {"ports": [N, …]} (one per target, in argv order) once listening.
 */
import { connect, createServer, type Server } from 'node:net';

function forward(targetPort: number): Promise<Server> {
  const server = createServer({ noDelay: true }, (socket) => {
    const upstream = connect({ port: targetPort, host: '127.0.0.1', noDelay: true });
    // A hang-up on either side cuts the other (without a listener an 'error' would end the process).
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function main(): Promise<void> {
  const targets = process.argv.slice(2).map(Number);
  if (targets.length === 0 || !targets.every((port) => Number.isInteger(port) && port > 0)) {
    throw new Error('usage: pipe-forwarder TARGET_PORT… (this program is started by bench/run.ts)');
  }
  const servers = await Promise.all(targets.map(forward));
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  process.stdout.write(`${JSON.stringify({ ports })}\n`);
}

process.once('SIGTERM', () => process.exit(0));
main().catch((error) => {
  process.stderr.write(`the pipe forwarder did not start: ${(error as Error).message}\n`);
  process.exit(1);
});
