/**
 * Opens the gateway's side of one data stream: `GET /api/v1/gateway/streams/:id` upgraded to the raw stream
 * protocol (protocol/relay.ts). The answer is the upgraded TCP socket itself, a Duplex the engine serves as it is.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { GATEWAY_STREAM_PATH } from '../../protocol/gateway-channel';
import { RELAY_UPGRADE_PROTOCOL } from '../../protocol/relay';
import { webSocketUrl } from './control-channel';

export interface DataStreamOptions {
  /** The control plane's address (http(s)://, with or without /api/v1). */
  server: string;
  credential: string;
  streamId: string;
  /** PEM of a private CA that issued the control plane's certificate. */
  ca?: string;
  /** How long the control plane may take to answer. Default 10 s. */
  timeoutMs?: number;
}

/** Resolves with the upgraded socket (bytes read past the answer put back), or rejects with why it was refused. */
export function openDataStream(options: DataStreamOptions): Promise<Socket> {
  const url = new URL(webSocketUrl(options.server, `${GATEWAY_STREAM_PATH}/${encodeURIComponent(options.streamId)}`));
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      agent: false,
      ...(options.ca ? { ca: options.ca } : {}),
      headers: { connection: 'Upgrade', upgrade: RELAY_UPGRADE_PROTOCOL, authorization: `Bearer ${options.credential}` },
    });
    request.on('socket', (socket: Socket) => socket.setNoDelay(true));
    const timer = setTimeout(
      () => request.destroy(new Error('the control plane did not answer the data stream request in time')),
      options.timeoutMs ?? 10_000,
    );
    request.on('upgrade', (_response: IncomingMessage, socket: Socket, head: Buffer) => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    request.on('response', (response: IncomingMessage) => {
      clearTimeout(timer);
      response.resume();
      reject(new Error(`the control plane refused the data stream (HTTP ${response.statusCode})`));
    });
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end();
  });
}
