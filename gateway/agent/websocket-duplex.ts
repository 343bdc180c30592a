/**
 * A lean Duplex over one data WebSocket, for the engine: received binary frames are pushed as they come (the
 * WebSocket is paused when the engine does not read), writes become binary frames of at most
 * RELAY_MAX_FRAME_BYTES, and a write's callback waits for the TCP socket to drain when too much is queued.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { RELAY_MAX_FRAME_BYTES } from '../../protocol/relay';

const BINARY = Object.freeze({ binary: true });

export class WebSocketDuplex extends Duplex {
  private pendingWrite: ((error?: Error | null) => void) | undefined;
  /** The close code and reason the WebSocket ended with, once it has. */
  closeCode: number | undefined;
  closeReason = '';

  constructor(
    private readonly ws: WebSocket,
    socket: Socket,
    private readonly highWaterMark = 512 * 1024,
  ) {
    super({ allowHalfOpen: false });
    socket.setNoDelay(true);
    ws.on('message', (data: Buffer) => {
      if (!this.push(data)) ws.pause();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      // The write is dropped quietly: the stream ends right here, and an error would crash an engine without a listener.
      this.releaseWrite();
      this.push(null);
      this.destroy();
    });
    ws.on('error', () => {
      // 'close' follows and ends the stream; the engine learns of it from there.
    });
    socket.on('drain', () => this.releaseWrite());
  }

  /** Closes the WebSocket with a code the relay passes on to the user (e.g. 4000 for an ended session). */
  closeWith(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  override _read(): void {
    if (this.ws.isPaused) this.ws.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.sendFrom(chunk, 0, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.closeWith(1000, '');
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.ws.readyState === WebSocket.OPEN) this.closeWith(error ? 4003 : 1000, '');
    this.releaseWrite();
    callback(error);
  }

  /**
   * Sends `chunk` from `offset` in frames, stopping whenever the socket holds more than the mark and going on at its
   * 'drain': a large reply (up to 48 MB) is never copied into the send queue all at once (client frames are masked,
   * which copies them).
   */
  private sendFrom(chunk: Buffer, offset: number, callback: (error?: Error | null) => void): void {
    while (offset < chunk.length) {
      if (this.ws.readyState !== WebSocket.OPEN) break;
      const end = Math.min(offset + RELAY_MAX_FRAME_BYTES, chunk.length);
      this.ws.send(offset === 0 && end === chunk.length ? chunk : chunk.subarray(offset, end), BINARY);
      offset = end;
      // Above the mark the socket's last write returned false, so its 'drain' will come.
      if (this.ws.bufferedAmount > this.highWaterMark) {
        const from = offset;
        this.pendingWrite = () => this.sendFrom(chunk, from, callback);
        return;
      }
    }
    callback();
  }

  private releaseWrite(): void {
    const callback = this.pendingWrite;
    this.pendingWrite = undefined;
    callback?.();
  }
}
