/**
 * Bench child: a TCP echo server on 127.0.0.1 (every byte comes straight back). It stands at the far end of the
 * raw tunnel figure, for the direct path, `ssh -L` and the relay alike. Prints {"port": N} once listening.
 */
import { createServer } from 'node:net';

const server = createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the echo server has no TCP address');
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
