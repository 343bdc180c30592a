/** The raw tunnel figure's client: sequential small round trips, and a bulk stream, against a TCP echo. */
import { connect, type Socket } from 'node:net';
import { microsSince, percentile } from './stats';

export function openEcho(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** p50 and p99 in µs of `count` sequential `size`-byte messages echoed back. */
export async function echoRoundTrips(port: number, count: number, size = 200): Promise<{ p50: number; p99: number }> {
  const socket = await openEcho(port);
  try {
    const message = Buffer.alloc(size, 0x61);
    const samples: number[] = [];
    let received = 0;
    let waiter: { resolve(): void; reject(error: Error): void } | undefined;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= size) {
        received -= size;
        waiter?.resolve();
      }
    });
    socket.on('error', (error) => waiter?.reject(error));
    socket.on('close', () => waiter?.reject(new Error('the echo connection closed')));
    for (let i = 0; i < count; i++) {
      const start = process.hrtime.bigint();
      await new Promise<void>((resolve, reject) => {
        waiter = { resolve, reject };
        socket.write(message);
      });
      samples.push(microsSince(start));
    }
    return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  } finally {
    socket.destroy();
  }
}

/** MB/s (10^6 bytes) of `totalBytes` sent in 64 KiB writes and all echoed back. */
export async function echoThroughput(port: number, totalBytes: number): Promise<number> {
  const socket = await openEcho(port);
  try {
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    const start = process.hrtime.bigint();
    const echoed = new Promise<void>((resolve, reject) => {
      let received = 0;
      socket.on('data', (data: Buffer) => {
        received += data.length;
        if (received >= totalBytes) resolve();
      });
      socket.once('error', reject);
      socket.once('close', () => (received >= totalBytes ? resolve() : reject(new Error(`the echo closed after ${received} bytes`))));
    });
    let sent = 0;
    while (sent < totalBytes) {
      const piece = totalBytes - sent >= chunk.length ? chunk : chunk.subarray(0, totalBytes - sent);
      sent += piece.length;
      if (!socket.write(piece)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    await echoed;
    return totalBytes / 1e6 / (microsSince(start) / 1e6);
  } finally {
    socket.destroy();
  }
}
