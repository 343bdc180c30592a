/**
 * Reading, accepting and refusing HTTP upgrade requests: credentials from headers, the 101 answer of a raw data
 * stream, and a plain HTTP error answer for requests that are not let through.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { RELAY_UPGRADE_PROTOCOL } from '../../protocol/relay';

/** The value after `<scheme> ` in the Authorization header, or undefined. The scheme is case-insensitive. */
export function authorizationValue(req: IncomingMessage, scheme: 'Bearer' | 'Ticket'): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const space = header.indexOf(' ');
  if (space <= 0 || header.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return undefined;
  const value = header.slice(space + 1).trim();
  return value === '' ? undefined : value;
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  return value.trim();
}

/** True when the request asks to switch to the raw data stream protocol (not to a WebSocket). */
export function isStreamUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.trim().toLowerCase() === RELAY_UPGRADE_PROTOCOL;
}

/** The answer that turns an upgrade request into a raw data stream. */
export const STREAM_SWITCHING_PROTOCOLS = Buffer.from(
  `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${RELAY_UPGRADE_PROTOCOL}\r\n\r\n`,
  'latin1',
);

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  410: 'Gone',
  503: 'Service Unavailable',
};

/** Answers an upgrade request with an HTTP error and a JSON body in the API's error format, then closes it. */
export function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  if (socket.destroyed || socket.writableEnded) return;
  const body = JSON.stringify({ error: { code, message } });
  // Bytes the client sent early are read and dropped: closing a socket with unread data resets it, and the
  // reset could reach the client before it has read this answer.
  socket.on('data', () => {});
  socket.on('error', () => {});
  socket.resume();
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  // The client closes once it has the answer; one that does not is cut.
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** A close reason fits in 123 bytes (RFC 6455); longer texts are cut. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text;
  let cut = text.slice(0, 120);
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1);
  return `${cut}...`;
}
