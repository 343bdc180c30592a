import { type LookupFunction, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import type { Document } from 'bson';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../wire/constants';
import { MessageFramer } from '../wire/framer';
import { encodeOpMsg, parseOpMsg } from '../wire/op-msg';
import { formatHostAddress, type HostAddress } from './connection-string';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The upstream could not be reached: refused, timed out, TLS refused, or the connection dropped. */
export class UpstreamNetworkError extends Error {
  override name = 'UpstreamNetworkError';
}

/** A command the gateway itself sent (hello, saslStart, ...) came back with ok: 0. */
export class UpstreamCommandError extends Error {
  override name = 'UpstreamCommandError';
  constructor(
    message: string,
    readonly code: number | undefined,
    readonly codeName: string | undefined,
  ) {
    super(message);
  }
}

export interface OpenUpstreamOptions {
  /** TLS options for this host, or undefined for plain TCP. */
  tls?: ConnectionOptions;
  lookup?: LookupFunction;
  timeoutMs?: number;
}

function describeSocketError(error: NodeJS.ErrnoException, where: string, tls: boolean): string {
  const code = error.code ?? '';
  if (code === 'ECONNREFUSED') return `${where} refused the connection (nothing listens there)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host name of ${where} could not be resolved`;
  if (code === 'ETIMEDOUT') return `${where} did not answer in time`;
  if (code === 'ECONNRESET')
    return `${where} closed the connection${tls ? ' during the TLS handshake (is TLS enabled on the server?)' : ''}`;
  if (tls && (code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED|SSL|TLS|certificate/i.test(`${code} ${error.message}`))) {
    return `the TLS connection to ${where} failed: ${error.message}${code ? ` (${code})` : ''}. Check the TLS settings and CA certificate of the resource`;
  }
  return `the connection to ${where} failed: ${error.message}`;
}

/**
 * One socket to one MongoDB server, used by the gateway for its own commands (probe hello, SCRAM) and then
 * handed to the engine with `detach()`, after which this object no longer reads from it.
 */
export class UpstreamConnection {
  private readonly framer = new MessageFramer({ maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE });
  private nextRequestId = 1;
  private waiting: { id: number; resolve(reply: Document): void; reject(error: Error): void } | undefined;
  private failure: Error | undefined;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private readonly onError = (error: Error) => this.fail(new UpstreamNetworkError(describeSocketError(error, this.where, this.isTls)));
  private readonly onClose = () =>
    this.fail(
      new UpstreamNetworkError(
        `${this.where} closed the connection${this.isTls ? '' : ' (if the server requires TLS, turn TLS on for the resource)'}`,
      ),
    );

  private constructor(
    readonly socket: Socket,
    readonly address: HostAddress,
    private readonly isTls: boolean,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  get where(): string {
    return formatHostAddress(this.address);
  }

  /** Opens TCP (and TLS when asked), with Nagle off and keep-alive on; rejects with a readable UpstreamNetworkError. */
  static open(address: HostAddress, options: OpenUpstreamOptions = {}): Promise<UpstreamConnection> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const where = formatHostAddress(address);
    const isTls = options.tls !== undefined;
    return new Promise((resolve, reject) => {
      const base = { host: address.host, port: address.port, lookup: options.lookup };
      const socket: Socket = isTls ? tlsConnect({ ...base, ...options.tls }) : netConnect(base);
      const readyEvent = isTls ? 'secureConnect' : 'connect';
      const timer = setTimeout(() => {
        socket.destroy();
        const what = isTls ? 'complete a TLS handshake (is TLS enabled on the server?)' : 'accept a connection';
        reject(new UpstreamNetworkError(`${where} did not ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new UpstreamNetworkError(describeSocketError(error, where, isTls)));
      };
      socket.once('error', onError);
      socket.once(readyEvent, () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 30_000);
        resolve(new UpstreamConnection(socket, address, isTls, timeoutMs));
      });
    });
  }

  /** Sends one OP_MSG command and returns the reply body; ok: 0 becomes an UpstreamCommandError. */
  command(db: string, body: Document): Promise<Document> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiting) return Promise.reject(new Error('UpstreamConnection.command: one command at a time'));
    const id = this.nextRequestId++;
    return new Promise<Document>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new UpstreamNetworkError(`${this.where} did not answer ${Object.keys(body)[0]} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting = {
        id,
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.socket.write(encodeOpMsg({ requestId: id, body: { ...body, $db: db } }));
    }).then((reply) => {
      if (reply.ok !== 1 && reply.ok !== true) {
        const code = typeof reply.code === 'number' ? reply.code : undefined;
        throw new UpstreamCommandError(String(reply.errmsg ?? 'command failed'), code, reply.codeName);
      }
      return reply;
    });
  }

  private receive(chunk: Buffer): void {
    let messages: Buffer[];
    try {
      messages = this.framer.push(chunk);
    } catch (error) {
      this.fail(new UpstreamNetworkError(`${this.where} sent a malformed message: ${(error as Error).message}`));
      return;
    }
    for (const raw of messages) {
      const waiting = this.waiting;
      if (!waiting) continue;
      try {
        const reply = parseOpMsg(raw);
        if (reply.header.responseTo !== waiting.id) continue;
        this.waiting = undefined;
        waiting.resolve(reply.body);
      } catch (error) {
        this.fail(new UpstreamNetworkError(`${this.where} sent a malformed reply: ${(error as Error).message}`));
      }
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
    this.socket.destroy();
  }

  /** Stops reading for the gateway's own commands and returns the socket, now the engine's to read and write. */
  detach(): Socket {
    // Paused so that no byte is emitted while nobody listens; the engine resumes it.
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
    return this.socket;
  }

  close(): void {
    this.detach();
    this.socket.destroy();
  }
}
