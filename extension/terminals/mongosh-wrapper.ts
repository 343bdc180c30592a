/**
 * The process a Portcullis mongosh terminal runs (bundled as dist/mongosh-terminal.js, started with the editor's own
 * Node.js). It runs mongosh as a child with the terminal's own input and output, so mongosh has a real TTY, and stays
 * when mongosh exits or the session ends: the extension tells it why over a local socket, it prints that under
 * mongosh's output and waits for a key (R: start again or reconnect, C: close). Without it the terminal would vanish
 * with mongosh, taking the error with it, or outlive its session with only ECONNREFUSED to show.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { encodeMessage, type FromTerminal, messageReader, TERMINAL_ENV, type TerminalOffer, type ToTerminal } from './terminal-protocol';

const STYLE = Object.freeze({ bold: '\x1b[1m', dim: '\x1b[2m', yellow: '\x1b[33m', red: '\x1b[31m', reset: '\x1b[0m' });
/** Keys pressed this soon after a prompt appears were typed for mongosh, not for the prompt: ignored. */
const PROMPT_GUARD_MS = 400;
/** mongosh gets this long to exit after SIGTERM before it is killed. */
const KILL_GRACE_MS = 2000;

const OFFERS: Record<TerminalOffer, string> = {
  reconnect: 'Press R to reconnect (a new session), or C to close this terminal.',
  retry: 'Press R to start mongosh again, or C to close this terminal.',
};

function write(text: string): void {
  process.stdout.write(text.replace(/\r?\n/g, '\r\n'));
}

class MongoshWrapper {
  private child: ChildProcess | undefined;
  /** The session ended while mongosh ran: shown once mongosh has exited. */
  private endedWhileRunning: Extract<ToTerminal, { type: 'ended' }> | undefined;
  private waitingSince = 0;
  private keyListener: ((chunk: Buffer) => void) | undefined;
  private channelOpen = true;

  constructor(private readonly socket: Socket) {}

  handle(message: ToTerminal): void {
    switch (message.type) {
      case 'start':
        this.start(message);
        return;
      case 'ended':
        if (this.child) {
          this.endedWhileRunning = message;
          this.stopChild();
        } else {
          this.show(message.headline, message.lines, STYLE.yellow);
          this.waitForKey(message.offer);
        }
        return;
      case 'failed':
        if (this.child) return;
        this.show(message.headline, message.lines, STYLE.red);
        this.waitForKey(message.offer);
        return;
      case 'notice':
        write(`${STYLE.dim}${message.text}${STYLE.reset}\n`);
        if (message.offer) this.waitForKey(message.offer);
        return;
    }
  }

  /** The extension went away (window closed or reloaded): the session went with it. */
  channelClosed(): void {
    if (!this.channelOpen) return;
    this.channelOpen = false;
    const lines = ['The session ended with it. Close this terminal, then click Access in the Portcullis view for a new session.'];
    if (this.child) {
      this.endedWhileRunning = { type: 'ended', headline: 'Portcullis stopped in this window.', lines, offer: 'reconnect' };
      this.stopChild();
    } else {
      this.show('Portcullis stopped in this window.', lines, STYLE.yellow);
      this.waitForKey(undefined);
    }
  }

  private start(message: Extract<ToTerminal, { type: 'start' }>): void {
    if (this.child) return;
    this.stopWaiting();
    write(`${STYLE.dim}${message.banner}${STYLE.reset}\n`);
    const env = { ...process.env };
    delete env[TERMINAL_ENV.channel];
    delete env[TERMINAL_ENV.key];
    delete env.ELECTRON_RUN_AS_NODE;
    const child = spawn(message.command, message.args, {
      stdio: 'inherit',
      env,
      // Windows runs .cmd and .bat files (an npm-installed mongosh) only through the shell.
      shell: process.platform === 'win32' && /\.(cmd|bat)$/i.test(message.command),
    });
    this.child = child;
    child.once('error', (error) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.show(`Could not start mongosh: ${error.message}`, ['Check the portcullis.mongoshPath setting.'], STYLE.red);
      this.send({ type: 'exited', code: null, signal: null });
    });
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      const ended = this.endedWhileRunning;
      this.endedWhileRunning = undefined;
      if (ended) {
        this.show(ended.headline, ended.lines, STYLE.yellow);
        this.waitForKey(this.channelOpen ? ended.offer : undefined);
        return;
      }
      this.send({ type: 'exited', code, signal });
      // `exit` in mongosh: the terminal closes, as a shell's would.
      if (code === 0 && !signal) process.exit(0);
      if (!this.channelOpen) {
        this.waitForKey(undefined);
        return;
      }
      write(`\n${STYLE.dim}mongosh exited (${signal ?? `code ${code}`}); asking Portcullis why…${STYLE.reset}\n`);
    });
  }

  private stopChild(): void {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.child === child) child.kill('SIGKILL');
    }, KILL_GRACE_MS);
    timer.unref();
  }

  private show(headline: string, lines: string[], colour: string): void {
    write(`\n${STYLE.bold}${colour}■ ${headline}${STYLE.reset}\n`);
    for (const line of lines) write(`  ${line}\n`);
  }

  /** Waits for R (when there is an offer) or C. Without an offer any key closes the terminal. */
  private waitForKey(offer: TerminalOffer | undefined): void {
    this.stopWaiting();
    write(`\n${STYLE.bold}${offer ? OFFERS[offer] : 'Press any key to close this terminal.'}${STYLE.reset}\n`);
    this.waitingSince = Date.now();
    const stdin = process.stdin;
    if (stdin.isTTY) stdin.setRawMode(true);
    this.keyListener = (chunk: Buffer) => {
      const key = chunk.toString();
      if (!offer) process.exit(0);
      if (key === '\x03' || key === '\x04' || key === '\x1b' || key.toLowerCase() === 'c' || key.toLowerCase() === 'q') process.exit(0);
      // One key per chunk when typed; a paste or a burst typed for mongosh is not an answer.
      if (Date.now() - this.waitingSince < PROMPT_GUARD_MS || key.trim().toLowerCase() !== 'r') return;
      this.stopWaiting();
      this.send({ type: 'retry' });
    };
    stdin.on('data', this.keyListener);
    stdin.resume();
  }

  private stopWaiting(): void {
    if (!this.keyListener) return;
    const stdin = process.stdin;
    stdin.off('data', this.keyListener);
    this.keyListener = undefined;
    // mongosh gets the terminal back as it found it.
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
  }

  private send(message: FromTerminal): void {
    if (this.channelOpen) this.socket.write(encodeMessage(message));
  }
}

/** The extension may still be starting to listen when the terminal starts: a refused connection is tried again. */
const CONNECT_ATTEMPTS = 50;
const CONNECT_RETRY_MS = 100;

function main(): void {
  const channel = process.env[TERMINAL_ENV.channel];
  const key = process.env[TERMINAL_ENV.key];
  if (!channel || !key) {
    write('This terminal is started by the Portcullis extension (Access on an account); it cannot run on its own.\n');
    process.exit(2);
  }
  // Ctrl+C reaches every process of the terminal: it is mongosh's to handle, never a reason for this one to go.
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => process.exit(129));
  connectChannel(channel, key, 1);
}

function connectChannel(channel: string, key: string, attempt: number): void {
  const socket = connect(channel);
  let connected = false;
  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (connected) return;
    if (attempt < CONNECT_ATTEMPTS) {
      setTimeout(() => connectChannel(channel, key, attempt + 1), CONNECT_RETRY_MS);
      return;
    }
    write(`Could not reach the Portcullis extension (${error.code ?? error.message}). Close this terminal and click Access again.\n`);
    process.exit(1);
  });
  socket.on('connect', () => {
    connected = true;
    const wrapper = new MongoshWrapper(socket);
    socket.write(encodeMessage({ type: 'hello', key }));
    socket.on(
      'data',
      messageReader(
        (message) => wrapper.handle(message as ToTerminal),
        () => socket.destroy(),
      ),
    );
    socket.on('close', () => wrapper.channelClosed());
  });
}

main();
