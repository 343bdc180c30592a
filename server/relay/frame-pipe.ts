/**
 * The relay's hot path: copies binary frames between two WebSockets, in both directions, with backpressure.
 * When the destination has more than `highWaterMark` bytes queued, the source WebSocket is paused (it stops
 * reading its TCP socket, so the sender's own buffers fill and it slows down) until the destination's socket
 * drains. No per-message wrappers, no copies: the received Buffer is handed to send() as it is.
 */
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';

export interface PipeEnd {
  ws: WebSocket;
  /** The WebSocket's TCP socket (from the upgrade), whose 'drain' ends a pause. */
  socket: Duplex;
}

export interface PipeCounters {
  /** Bytes copied from `a` to `b`. */
  aToB: number;
  /** Bytes copied from `b` to `a`. */
  bToA: number;
}

const BINARY = Object.freeze({ binary: true });

export function pipeFrames(a: PipeEnd, b: PipeEnd, highWaterMark: number): PipeCounters {
  const counters: PipeCounters = { aToB: 0, bToA: 0 };
  forward(a, b, highWaterMark, (n) => {
    counters.aToB += n;
  });
  forward(b, a, highWaterMark, (n) => {
    counters.bToA += n;
  });
  return counters;
}

function forward(from: PipeEnd, to: PipeEnd, highWaterMark: number, count: (bytes: number) => void): void {
  let paused = false;
  const resume = () => {
    paused = false;
    if (from.ws.readyState === WebSocket.OPEN) from.ws.resume();
  };
  from.ws.on('message', (data: Buffer) => {
    if (to.ws.readyState !== WebSocket.OPEN) return;
    to.ws.send(data, BINARY);
    count(data.length);
    // bufferedAmount is the socket's write queue; above the mark the last write returned false, so 'drain' follows.
    if (!paused && to.ws.bufferedAmount > highWaterMark) {
      paused = true;
      from.ws.pause();
      to.socket.once('drain', resume);
    }
  });
}
