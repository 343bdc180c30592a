/**
 * The terminal wrapper as a real process (from source, through tsx) talking to a real TerminalChannel: it runs the
 * program it is told to with its own input and output, reports an error exit, prints why the session ended under the
 * program's output, answers R and C, stops the program when the session ends or the extension goes away. The
 * terminal is a pipe here, so keys arrive as written.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { TerminalChannel, type TerminalPeer } from './terminal-channel';
import type { FromTerminal } from './terminal-protocol';

const WRAPPER = join(__dirname, 'mongosh-wrapper.ts');

interface Running {
  channel: TerminalChannel;
  peer: TerminalPeer;
  child: ChildProcessWithoutNullStreams;
  messages: Array<Exclude<FromTerminal, { type: 'hello' }>>;
  output: () => string;
  exited: Promise<number | null>;
}

const started: Running[] = [];

afterEach(() => {
  for (const r of started.splice(0)) {
    r.child.kill('SIGKILL');
    r.channel.dispose();
  }
});

function startWrapper(env: Record<string, string | undefined> = {}): Running {
  const channel = new TerminalChannel();
  const messages: Running['messages'] = [];
  const peer = channel.expect({ message: (m) => messages.push(m), closed: () => {} });
  const child = spawn(process.execPath, ['--import', 'tsx', WRAPPER], {
    env: { ...process.env, PORTCULLIS_TERMINAL_CHANNEL: channel.address(), PORTCULLIS_TERMINAL_KEY: peer.key, ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running = { channel, peer, child, messages, output: () => output, exited };
  started.push(running);
  return running;
}

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const shell = (script: string, ...args: string[]) => ({ command: '/bin/sh', args: ['-c', script, 'sh', ...args] });

describe('the mongosh terminal wrapper', { skip: process.platform === 'win32' }, () => {
  it('runs the program, reports an error exit, shows the reason it is given, and starts again on R; exit 0 closes it', async () => {
    const r = startWrapper();
    r.peer.send({ type: 'start', ...shell('echo "ran $1"; exit 3', 'mongodb://127.0.0.1:1/'), banner: 'Portcullis: session ses_1' });
    const exited = await until('the exit report', () => r.messages.find((m) => m.type === 'exited'));
    assert.deepEqual(exited, { type: 'exited', code: 3, signal: null });
    assert.match(r.output(), /Portcullis: session ses_1[\s\S]*ran mongodb:\/\/127\.0\.0\.1:1\//);
    await until('the wait for the reason', () => /mongosh exited \(code 3\); asking Portcullis why/.test(r.output()));

    r.peer.send({
      type: 'failed',
      headline: 'mongosh could not connect to orders / reader.',
      lines: ['the gateway says why'],
      offer: 'retry',
    });
    await until('the reason and the prompt', () => /the gateway says why[\s\S]*Press R to start mongosh again/.test(r.output()));
    // A burst of typing (or a paste) is not an answer.
    r.child.stdin.write('rr');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(r.messages.filter((m) => m.type === 'retry').length, 0);
    r.child.stdin.write('r');
    await until('the retry', () => r.messages.find((m) => m.type === 'retry'));

    r.peer.send({ type: 'start', ...shell('echo "second run"; exit 0'), banner: 'again' });
    assert.equal(await r.exited, 0, 'mongosh exiting normally closes the terminal');
    assert.match(r.output(), /second run/);
  });

  it('when the session ends while mongosh runs: stops it, says why under its output, offers Reconnect; C closes', async () => {
    const r = startWrapper();
    r.peer.send({ type: 'start', ...shell('echo "pid $$"; exec sleep 60'), banner: 'b' });
    const pid = Number(await until('the program running', () => /pid (\d+)/.exec(r.output())?.[1]));
    r.peer.send({
      type: 'ended',
      headline: 'The session on orders / reader was stopped.',
      lines: ['It was stopped in this window.'],
      offer: 'reconnect',
    });
    await until('the end notice', () =>
      /The session on orders \/ reader was stopped\.[\s\S]*It was stopped in this window\.[\s\S]*Press R to reconnect \(a new session\)/.test(
        r.output(),
      ),
    );
    await until('the program stopped', () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
    assert.ok(!r.messages.some((m) => m.type === 'exited'), 'a stop for the session end is not reported as mongosh failing');
    await new Promise((resolve) => setTimeout(resolve, 450));
    r.child.stdin.write('c');
    assert.equal(await r.exited, 0);
  });

  it('when the extension goes away, stops mongosh and says the session ended with it', async () => {
    const r = startWrapper();
    r.peer.send({ type: 'start', ...shell('echo up; exec sleep 60'), banner: 'b' });
    await until('the program running', () => r.output().includes('up'));
    r.channel.dispose();
    await until('the notice', () => /Portcullis stopped in this window\.[\s\S]*Press any key to close/.test(r.output()));
    r.child.stdin.write('x');
    assert.equal(await r.exited, 0);
  });

  it('explains itself and exits when started outside the extension', async () => {
    const r = startWrapper({ PORTCULLIS_TERMINAL_CHANNEL: '' });
    assert.equal(await r.exited, 2);
    assert.match(r.output(), /started by the Portcullis extension/);
  });
});
