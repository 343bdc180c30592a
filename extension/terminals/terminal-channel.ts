/**
 * The local socket the mongosh terminals' wrapper processes connect to (a Unix socket in a folder only this user can
 * read, or a named pipe on Windows). Each terminal is expected under a random key the extension put in its
 * environment; a connection that does not name an expected key first is dropped. No VS Code types here.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage, type FromTerminal, messageReader, type ToTerminal } from './terminal-protocol';

/** How long a connection may take to say which terminal it is. */
const HELLO_TIMEOUT_MS = 10_000;

export interface TerminalPeerEvents {
  message(message: Exclude<FromTerminal, { type: 'hello' }>): void;
  /** The wrapper process went away (terminal closed, process killed). */
  closed(): void;
}

/** One terminal's end of the channel. Messages sent before its wrapper connects are queued. */
export class TerminalPeer {
  private socket: Socket | undefined;
  private queue: string[] = [];
  private closedFlag = false;

  constructor(
    readonly key: string,
    private readonly events: TerminalPeerEvents,
  ) {}

  get connected(): boolean {
    return this.socket !== undefined && !this.closedFlag;
  }

  send(message: ToTerminal): void {
    if (this.closedFlag) return;
    const line = encodeMessage(message);
    if (this.socket) this.socket.write(line);
    else this.queue.push(line);
  }

  attach(socket: Socket): void {
    this.socket = socket;
    for (const line of this.queue) socket.write(line);
    this.queue = [];
  }

  receive(message: FromTerminal): void {
    if (message.type === 'hello' || this.closedFlag) return;
    this.events.message(message);
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.socket?.destroy();
    this.events.closed();
  }
}

export class TerminalChannel {
  private server: Server | undefined;
  private dir: string | undefined;
  private path: string | undefined;
  private readonly expected = new Map<string, TerminalPeer>();

  /**
   * Where wrappers connect. The server starts on first use; the path is known at once, so a terminal can be created
   * in the same tick (its wrapper retries while the server is not listening yet).
   */
  address(): string {
    this.path ??= this.listen();
    return this.path;
  }

  /** A new terminal's peer, under a fresh random key. */
  expect(events: TerminalPeerEvents): TerminalPeer {
    const peer = new TerminalPeer(randomBytes(24).toString('hex'), events);
    this.expected.set(peer.key, peer);
    return peer;
  }

  forget(peer: TerminalPeer): void {
    this.expected.delete(peer.key);
    peer.close();
  }

  dispose(): void {
    for (const peer of this.expected.values()) peer.close();
    this.expected.clear();
    this.server?.close();
    this.server = undefined;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private listen(): string {
    let path: string;
    if (process.platform === 'win32') {
      path = `\\\\.\\pipe\\portcullis-terminal-${randomBytes(12).toString('hex')}`;
    } else {
      // mkdtemp makes the folder 0700: other users of the machine cannot reach the socket inside.
      this.dir = mkdtempSync(join(tmpdir(), 'portcullis-term-'));
      path = join(this.dir, 'channel');
    }
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    // A failure shows in the terminal: its wrapper says it cannot reach the extension.
    server.on('error', () => {});
    server.listen(path);
    server.unref();
    return path;
  }

  private accept(socket: Socket): void {
    let peer: TerminalPeer | undefined;
    const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
    timer.unref();
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      if (peer) this.forget(peer);
    });
    socket.on(
      'data',
      messageReader(
        (message) => {
          if (peer) {
            peer.receive(message as FromTerminal);
            return;
          }
          const candidate = message.type === 'hello' && typeof message.key === 'string' ? this.expected.get(message.key) : undefined;
          // A key is good for one connection: a second process presenting it gets nothing.
          if (!candidate || candidate.connected) {
            socket.destroy();
            return;
          }
          clearTimeout(timer);
          peer = candidate;
          peer.attach(socket);
        },
        () => socket.destroy(),
      ),
    );
  }
}
