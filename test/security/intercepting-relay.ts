/**
 * The attacker's seat for the end-to-end encryption tests: a TCP proxy in front of the control plane, through which
 * both the user's relay streams and the gateway's data streams pass (clients and the gateway are given its address),
 * so it sees exactly the bytes the relay forwards. It records them, and can take over a stream once the relay has
 * paired it (after the `101 Switching Protocols`) to play a relay that swaps certificates.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

export type StreamKind = 'user' | 'gateway' | 'other';

export interface CapturedStream {
  kind: StreamKind;
  /** The HTTP request head as sent (with the ticket or the gateway's credential). */
  requestHead: Buffer;
  /** Bytes after the request head, towards the control plane, and from it (its answer head included). */
  toServer: Buffer[];
  toClient: Buffer[];
}

/**
 * Takes over a paired stream: `peer` is the side that asked for the stream (proxy-core for a user stream, the
 * gateway for a data stream), after it received the relay's 101; `relay` is the control plane's socket.
 */
export type Takeover = (peer: Socket, relay: Socket) => void;

export class InterceptingRelay {
  readonly streams: CapturedStream[] = [];
  /** Set to take over the next streams of a kind (cleared with undefined). */
  takeover: Partial<Record<'user' | 'gateway', Takeover>> = {};
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: () => number) {
    this.server = createServer((socket) => this.accept(socket));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Every byte the relay forwarded on the streams of `kind` (both directions, request heads excluded). */
  forwarded(kind: StreamKind): Buffer {
    return Buffer.concat(this.streams.filter((s) => s.kind === kind).flatMap((s) => [...s.toServer, ...s.toClient]));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.track(client);
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      client.pause();
      this.forward(client, head.subarray(0, end + 4), head.subarray(end + 4));
    };
    client.on('data', onData);
  }

  private forward(client: Socket, requestHead: Buffer, rest: Buffer): void {
    const path = requestHead.toString('latin1').split(' ')[1] ?? '';
    const kind: StreamKind = path.endsWith('/relay') ? 'user' : path.includes('/gateway/streams/') ? 'gateway' : 'other';
    const captured: CapturedStream = { kind, requestHead, toServer: rest.length ? [rest] : [], toClient: [] };
    this.streams.push(captured);
    const upstream = this.track(tcpConnect(this.target(), '127.0.0.1'));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.write(Buffer.concat([requestHead, rest]));
    const takeover = kind === 'other' ? undefined : this.takeover[kind];
    client.on('data', (chunk: Buffer) => captured.toServer.push(chunk));
    client.pipe(upstream);
    client.on('close', () => upstream.destroy());
    if (!takeover) {
      upstream.on('data', (chunk: Buffer) => captured.toClient.push(chunk));
      upstream.pipe(client);
      upstream.on('close', () => client.destroy());
      return;
    }
    // Pass the relay's answer head on, then play the relay that swaps who is at the other end.
    let answer = Buffer.alloc(0);
    const onAnswer = (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      const end = answer.indexOf('\r\n\r\n');
      if (end < 0) return;
      upstream.off('data', onAnswer);
      upstream.pause();
      client.write(answer.subarray(0, end + 4));
      captured.toClient.push(answer);
      client.unpipe(upstream);
      client.removeAllListeners('data');
      if (!answer.subarray(0, 12).toString('latin1').includes(' 101')) {
        client.destroy();
        return;
      }
      takeover(client, upstream);
    };
    upstream.on('data', onAnswer);
  }

  private track(socket: Socket): Socket {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }
}

/** Opens a raw relay stream to `port` with a recorded request head and writes recorded bytes: a replay. */
export function replayStream(port: number, requestHead: Buffer, bytes: Buffer): Promise<{ received: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.write(Buffer.concat([requestHead, bytes]));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received: Buffer.concat(received), closed: false });
    }, 8000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(received), closed: true });
    });
  });
}
