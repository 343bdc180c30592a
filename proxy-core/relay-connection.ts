/**
 * Carries one accepted local TCP connection through its own relay WebSocket, with backpressure both ways: the TCP
 * socket is paused while the WebSocket has too much queued, and the WebSocket is paused while the TCP socket does.
 * Bytes are handed over as they come (no stream wrappers on the hot path).
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { RELAY_CLOSE_CODES, RELAY_MAX_FRAME_BYTES, RELAY_MAX_PAYLOAD_BYTES, RELAY_SESSION_HEADER } from '../protocol/relay';

export interface RelayConnectionOptions {
  /** ws(s)://…/api/v1/relay */
  url: string;
  ticket: string;
  sessionId: string;
  highWaterMark?: number;
}

export interface RelayConnectionResult {
  /** Client → database bytes. */
  bytesOut: number;
  /** Database → client bytes. */
  bytesIn: number;
  /** The relay's close code (1006 when the link was cut), or undefined when the WebSocket never opened. */
  code?: number;
  reason: string;
  /** Why the relay could not be reached or refused the upgrade, when it did. */
  error?: string;
  /** True when the failure looked like the network (no HTTP answer at all). */
  networkError: boolean;
}

const BINARY = Object.freeze({ binary: true });

/** Starts tunnelling; the promise settles when both sides are closed. `close` ends it early (code 1000). */
export function tunnel(client: Socket, options: RelayConnectionOptions): { done: Promise<RelayConnectionResult>; close(): void } {
  const highWaterMark = options.highWaterMark ?? 512 * 1024;
  const result: RelayConnectionResult = { bytesOut: 0, bytesIn: 0, reason: '', networkError: false };
  client.pause();
  client.setNoDelay(true);
  const ws = new WebSocket(options.url, {
    headers: { authorization: `Ticket ${options.ticket}`, [RELAY_SESSION_HEADER]: options.sessionId },
    perMessageDeflate: false,
    maxPayload: RELAY_MAX_PAYLOAD_BYTES,
    handshakeTimeout: 15_000,
  });
  let wsSocket: Socket | undefined;
  ws.once('upgrade', (response) => {
    wsSocket = response.socket as Socket;
    wsSocket.setNoDelay(true);
  });
  ws.once('unexpected-response', (_req, res) => {
    result.error = `the control plane refused the relay connection (HTTP ${res.statusCode})`;
    res.resume();
    ws.terminate();
  });
  ws.on('error', (error: Error & { code?: string }) => {
    if (result.error) return;
    result.error = `could not reach the control plane's relay (${error.code ?? error.message})`;
    result.networkError = true;
  });

  let opened = false;
  ws.once('open', () => {
    opened = true;
    const upstream = wsSocket as Socket;
    let clientPaused = false;
    const resumeClient = () => {
      clientPaused = false;
      client.resume();
    };
    client.on('data', (chunk: Buffer) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (chunk.length <= RELAY_MAX_FRAME_BYTES) ws.send(chunk, BINARY);
      else for (let i = 0; i < chunk.length; i += RELAY_MAX_FRAME_BYTES) ws.send(chunk.subarray(i, i + RELAY_MAX_FRAME_BYTES), BINARY);
      result.bytesOut += chunk.length;
      if (!clientPaused && ws.bufferedAmount > highWaterMark) {
        clientPaused = true;
        client.pause();
        upstream.once('drain', resumeClient);
      }
    });
    let wsPaused = false;
    const resumeWs = () => {
      wsPaused = false;
      if (ws.readyState === WebSocket.OPEN) ws.resume();
    };
    ws.on('message', (data: Buffer) => {
      result.bytesIn += data.length;
      if (!client.write(data) && !wsPaused) {
        wsPaused = true;
        ws.pause();
        client.once('drain', resumeWs);
      }
    });
    client.resume();
  });

  client.on('error', () => {
    // 'close' follows.
  });
  client.once('close', () => {
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(RELAY_CLOSE_CODES.normal);
    setTimeout(() => ws.terminate(), 2000).unref();
  });

  const done = new Promise<RelayConnectionResult>((resolve) => {
    let wsClosed = false;
    let clientClosed = client.destroyed;
    const settle = () => {
      if (wsClosed && clientClosed) resolve(result);
    };
    client.once('close', () => {
      clientClosed = true;
      settle();
    });
    ws.once('close', (code: number, reason: Buffer) => {
      wsClosed = true;
      if (opened) result.code = code;
      result.reason = reason.toString();
      // A normal close means the database side hung up: let the client read what was sent before. Anything
      // else cuts the client connection, and only this one.
      if (code === RELAY_CLOSE_CODES.normal) client.end();
      else client.destroy();
      settle();
    });
  });

  return {
    done,
    close() {
      client.destroy();
    },
  };
}
