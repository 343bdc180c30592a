import { connect, type Socket } from 'node:net';
import type { CommandEvent, ConnectionEvent, SessionLogEvent } from '../../protocol/session-log';
import type { MongoTarget } from '../../protocol/target';
import type { FerretDBServer } from '../../test/bed/ferretdb';
import { type ListenForClientsOptions, listenForClients } from '../engine/tcp-listener';
import { MessageFramer } from '../wire/framer';
import { type ParsedMessage, parseMessage } from '../wire/message';

/** A target for the FerretDB setup user over plain TCP, with overrides. */
export function targetFor(server: FerretDBServer, overrides: Partial<MongoTarget> = {}): MongoTarget {
  return {
    connectionString: `mongodb://${server.host}:${server.port}/`,
    authDatabase: 'admin',
    tls: { enabled: false, rejectUnauthorized: true },
    username: server.username,
    password: server.password,
    ...overrides,
  };
}

export interface TestGateway {
  port: number;
  /** `mongodb://127.0.0.1:PORT/` — no credentials, no directConnection. */
  uri: string;
  events: SessionLogEvent[];
  commands(filter?: (e: CommandEvent) => boolean): CommandEvent[];
  connections(phase?: ConnectionEvent['phase']): ConnectionEvent[];
  close(): Promise<void>;
}

/** A gateway on a random loopback port serving every connection for `target`, collecting its events. */
export async function startGateway(target: MongoTarget, options: Partial<ListenForClientsOptions> = {}): Promise<TestGateway> {
  const events: SessionLogEvent[] = [];
  const listener = await listenForClients({ target, onEvent: (e) => events.push(e), ...options });
  return {
    port: listener.port,
    uri: `mongodb://127.0.0.1:${listener.port}/`,
    events,
    commands: (filter = () => true) => events.filter((e): e is CommandEvent => e.kind === 'command' && filter(e)),
    connections: (phase) => events.filter((e): e is ConnectionEvent => e.kind === 'connection' && (!phase || e.phase === phase)),
    close: () => listener.close(),
  };
}

/** A bare TCP client that sends bytes and reads whole wire messages back, for what drivers will not send. */
export class RawWireClient {
  private readonly framer = new MessageFramer({ maxMessageSize: 64 * 1024 * 1024 });
  private readonly messages: Buffer[] = [];
  private waiter: (() => void) | undefined;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.messages.push(...this.framer.push(chunk));
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => {});
  }

  static open(port: number): Promise<RawWireClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawWireClient(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next whole message, parsed; rejects when the connection closes first or after `timeoutMs`. */
  async next(timeoutMs = 15_000): Promise<ParsedMessage> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length === 0) {
      if (this.closed) throw new Error('the gateway closed the connection without a reply');
      if (Date.now() > deadline) throw new Error('no reply in time');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 100);
      });
    }
    return parseMessage(this.messages.shift()!, { maxMessageSize: 64 * 1024 * 1024 });
  }

  /** Resolves once the gateway has closed the connection. */
  async waitClosed(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the connection is still open');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The body of an OP_MSG reply or the first document of an OP_REPLY. */
export function replyBody(m: ParsedMessage) {
  if (m.kind === 'msg') return m.msg.body;
  if (m.kind === 'reply') return m.reply.documents[0];
  throw new Error(`expected a reply, got ${m.kind}`);
}

/** Polls until `condition` holds (events arrive asynchronously after sockets close); fails naming `what`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
