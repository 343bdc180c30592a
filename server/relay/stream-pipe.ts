/**
 * The relay's hot path: two upgraded sockets piped into each other, bytes as they are. pipe() pauses the source
 * whenever the destination's write buffer is past its highWaterMark, so a slow reader stops the relay reading the
 * other side and the kernel's buffers push back on the sender: the relay holds at most about one buffer per side.
 */
import type { Socket } from 'node:net';

export interface StreamPipe {
  /** Bytes that went through so far, both ways (for the idle timeout's activity check). */
  total(): number;
  /** Bytes waiting in the relay's write buffers towards either side. */
  buffered(): number;
  /** Cuts both sides now (session ended, gateway removed, shutdown). */
  destroy(): void;
}

/** Both sides stay open at most this long after one of them hung up, so a peer that never closes cannot hold them. */
const LINGER_MS = 2000;

/**
 * Pipes `a` and `b` both ways. When one side hangs up cleanly (FIN), the other is ended after what is in flight; when
 * one is cut (reset, error), the other is destroyed. `onClosed` runs once, when the first side closes or ends.
 */
export function pipeStreams(a: Socket, b: Socket, onClosed: () => void): StreamPipe {
  let closed = false;
  let lingerTimer: NodeJS.Timeout | undefined;
  const close = () => {
    if (closed) return;
    closed = true;
    onClosed();
  };
  const linger = () => {
    lingerTimer ??= setTimeout(() => {
      a.destroy();
      b.destroy();
    }, LINGER_MS).unref();
  };
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    from.setNoDelay(true);
    // An idle stream is normal (a connection pool between commands): no HTTP server timeout may cut it.
    from.setTimeout(0);
    from.on('error', () => {
      // 'close' follows.
    });
    from.once('end', () => {
      // pipe() ends `to`; its peer then hangs up too, which ends `from` the same way (or the linger timer does).
      linger();
      close();
    });
    from.once('close', () => {
      if (from.readableEnded) to.end();
      else to.destroy();
      linger();
      close();
    });
    from.pipe(to);
  }
  return {
    total: () => a.bytesRead + b.bytesRead,
    buffered: () => a.writableLength + b.writableLength + a.readableLength + b.readableLength,
    destroy() {
      clearTimeout(lingerTimer);
      a.destroy();
      b.destroy();
      close();
    },
  };
}

/**
 * One upgraded socket handed over to a gateway agent in the same process (no second socket to pipe to): the same
 * StreamPipe view, so the relay tracks, counts and cuts it like a paired stream. `onClosed` runs once, on close.
 */
export function handOverStream(socket: Socket, onClosed: () => void): StreamPipe {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    onClosed();
  };
  socket.setNoDelay(true);
  // An idle stream is normal (a connection pool between commands): no HTTP server timeout may cut it.
  socket.setTimeout(0);
  socket.on('error', () => {
    // 'close' follows.
  });
  socket.once('close', close);
  return {
    total: () => socket.bytesRead + socket.bytesWritten,
    buffered: () => socket.writableLength + socket.readableLength,
    destroy() {
      socket.destroy();
      close();
    },
  };
}
