/**
 * Carries one accepted local TCP connection through its own relay data stream: an HTTP Upgrade to the raw stream
 * protocol (protocol/relay.ts), then TLS with the gateway inside that stream (tunnel/tls.ts: the relay forwards
 * only ciphertext, and the gateway must prove the certificate the control plane vouched for), then the client
 * socket and the encrypted one piped into each other. pipe() gives backpressure both ways (a side whose write
 * buffer is full pauses the other).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { RELAY_SESSION_HEADER, RELAY_UPGRADE_PROTOCOL } from '../protocol/relay';
import { connectTunnel, type TunnelClientOptions, type TunnelConnector, TunnelRefused } from '../tunnel/tls';

export interface RelayConnectionOptions {
  /** http(s)://…/api/v1/relay (ws(s):// is accepted and means the same). */
  url: string;
  ticket: string;
  sessionId: string;
  /** How long the relay may take to pair the stream and answer. Default 15 s. */
  timeoutMs?: number;
  /** PEM of a private CA the control plane's certificate comes from. */
  ca?: string;
  /** The session's key and certificate, and the gateway fingerprint to accept (end-to-end encryption). */
  tunnel: TunnelClientOptions;
  /** Replaces the inner TLS: only the benchmark's unencrypted reference path sets it (see TunnelConnector). */
  connectTunnel?: TunnelConnector;
}

export interface RelayRefusal {
  /** The HTTP status of the refusal (401 bad ticket, 503 gateway unavailable, 410 session ended...). */
  status: number;
  /** The API error code from the JSON body, or '' when the body had none. */
  code: string;
  message: string;
}

export interface RelayConnectionResult {
  /** Client → database bytes. */
  bytesOut: number;
  /** Database → client bytes. */
  bytesIn: number;
  /** Set when the relay answered the upgrade with an HTTP error. */
  refused?: RelayRefusal;
  /** True when the stream was open and the relay's side closed it first (not the local client or close()). */
  closedByRelay: boolean;
  /** Why the relay could not be reached or refused the stream, when it did. */
  error?: string;
  /** True when the failure looked like the network (no HTTP answer at all). */
  networkError: boolean;
  /** Set when the encrypted tunnel to the gateway could not be set up (the gateway is not the one vouched for...). */
  tunnelRefused?: TunnelRefused['code'];
}

/** Largest refusal body read. */
const MAX_REFUSAL_BYTES = 16 * 1024;
/** After one side hung up cleanly, the other gets this long to finish before both are cut. */
const LINGER_MS = 2000;

/** Starts tunnelling; the promise settles when both sides are closed. `close` ends it early. */
export function tunnel(client: Socket, options: RelayConnectionOptions): { done: Promise<RelayConnectionResult>; close(): void } {
  const result: RelayConnectionResult = { bytesOut: 0, bytesIn: 0, closedByRelay: false, networkError: false };
  // Not read until the stream is paired: the client's first bytes wait in the kernel meanwhile.
  client.pause();
  client.setNoDelay(true);
  client.on('error', () => {
    // 'close' follows.
  });
  let closedLocally = false;
  let upstream: Duplex | undefined;

  const url = streamUrl(options.url);
  const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
    method: 'GET',
    agent: false,
    ...(options.ca ? { ca: options.ca } : {}),
    headers: {
      connection: 'Upgrade',
      upgrade: RELAY_UPGRADE_PROTOCOL,
      authorization: `Ticket ${options.ticket}`,
      [RELAY_SESSION_HEADER]: options.sessionId,
    },
  });
  request.on('socket', (socket: Socket) => socket.setNoDelay(true));
  const timer = setTimeout(() => {
    result.error ??= 'the relay did not answer in time (is the gateway reachable?)';
    request.destroy();
  }, options.timeoutMs ?? 15_000);

  const done = new Promise<RelayConnectionResult>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      result.bytesOut = client.bytesRead;
      result.bytesIn = client.bytesWritten;
      resolve(result);
    };
    const whenBothClosed = (a: Duplex, b: Duplex) => {
      let open = (a.closed ? 0 : 1) + (b.closed ? 0 : 1);
      if (open === 0) finish();
      for (const socket of [a, b]) {
        if (!socket.closed) {
          socket.once('close', () => {
            if (--open === 0) finish();
          });
        }
      }
    };

    request.on('upgrade', (_response: IncomingMessage, raw: Socket, head: Buffer) => {
      clearTimeout(timer);
      upstream = raw;
      raw.setNoDelay(true);
      raw.on('error', () => {
        // 'close' follows (and the TLS socket above it reports it).
      });
      if (closedLocally || client.destroyed) {
        raw.destroy();
        whenBothClosed(client, raw);
        return;
      }
      if (head.length > 0) raw.unshift(head);
      (options.connectTunnel ?? connectTunnel)(raw, options.tunnel).then(
        (secure) => {
          upstream = secure;
          if (closedLocally || client.destroyed) {
            secure.destroy();
            whenBothClosed(client, secure);
            return;
          }
          relay(secure);
        },
        (error: Error) => {
          if (!closedLocally) {
            result.error ??= error.message;
            if (error instanceof TunnelRefused) result.tunnelRefused = error.code;
          }
          raw.destroy();
          client.destroy();
          whenBothClosed(client, raw);
        },
      );
    });

    /** The encrypted stream is up: bytes flow both ways until one side ends. */
    const relay = (socket: Duplex) => {
      socket.on('error', () => {
        // 'close' follows.
      });
      let lingering = false;
      const linger = () => {
        if (lingering) return;
        lingering = true;
        setTimeout(() => {
          client.destroy();
          socket.destroy();
        }, LINGER_MS).unref();
      };
      // Whoever ends or closes first decides: the relay side first means the stream (or the session) ended there.
      const relayEnded = () => {
        if (!closedLocally) result.closedByRelay = true;
      };
      socket.once('end', () => {
        relayEnded();
        linger();
      });
      socket.once('close', () => {
        relayEnded();
        // A clean end lets the client read what was sent before; a cut cuts the client too.
        if (socket.readableEnded) client.end();
        else {
          if (!closedLocally) result.error ??= 'the connection to the relay was lost';
          client.destroy();
        }
        linger();
      });
      client.once('end', () => {
        if (!result.closedByRelay) closedLocally = true;
        linger();
      });
      client.once('close', () => {
        if (!result.closedByRelay) closedLocally = true;
        if (client.readableEnded) socket.end();
        else socket.destroy();
        linger();
      });
      client.pipe(socket);
      socket.pipe(client);
      whenBothClosed(client, socket);
    };

    request.on('response', (response: IncomingMessage) => {
      clearTimeout(timer);
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < MAX_REFUSAL_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      response.on('error', () => {});
      response.on('close', () => {
        result.refused = parseRefusal(response.statusCode ?? 0, Buffer.concat(chunks).subarray(0, MAX_REFUSAL_BYTES));
        result.error = describeRefusal(result.refused);
        client.destroy();
        if (client.closed) finish();
        else client.once('close', finish);
      });
    });

    request.on('error', (error: Error & { code?: string }) => {
      if (upstream || result.refused) return;
      clearTimeout(timer);
      if (!closedLocally && !result.error) {
        result.error = `could not reach the control plane's relay (${error.code ?? error.message})`;
        result.networkError = true;
      }
      client.destroy();
      if (client.closed) finish();
      else client.once('close', finish);
    });

    // The client left before the relay answered: the request is abandoned.
    client.once('close', () => {
      if (upstream) return;
      closedLocally = true;
      request.destroy();
    });
  });
  request.end();

  return {
    done,
    close() {
      closedLocally = true;
      client.destroy();
      upstream?.destroy();
    },
  };
}

/** What the relay's JSON error body says, or a plain description of the status. */
function parseRefusal(status: number, body: Buffer): RelayRefusal {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { code?: unknown; message?: unknown } };
    if (parsed.error && typeof parsed.error.message === 'string') {
      return { status, code: typeof parsed.error.code === 'string' ? parsed.error.code : '', message: parsed.error.message };
    }
  } catch {
    // Not JSON (a proxy in between answered): the status says enough.
  }
  return { status, code: '', message: `the control plane refused the relay connection (HTTP ${status})` };
}

function describeRefusal(refusal: RelayRefusal): string {
  if (refusal.status === 401) return 'the relay refused the ticket';
  return refusal.message;
}

/** The http(s):// address of the relay (the API gives it as ws(s)://). */
function streamUrl(address: string): URL {
  const url = new URL(address);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  return url;
}
