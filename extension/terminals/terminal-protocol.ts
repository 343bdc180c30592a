/**
 * The messages between the extension and the small wrapper process that runs mongosh in a terminal
 * (mongosh-wrapper.ts): one JSON object per line over a local socket. One discriminated union per direction.
 * No VS Code types here: the wrapper runs as plain Node.js inside the terminal.
 */

/** Which key prompt the wrapper shows while it waits: both offer R (what R does differs) and C to close. */
export type TerminalOffer = 'reconnect' | 'retry';

/** Extension → wrapper. */
export type ToTerminal =
  /** Run this program (mongosh on the session's local address) with the terminal's own input and output. */
  | { type: 'start'; command: string; args: string[]; banner: string }
  /** The session ended: stop mongosh if it runs, say why and what to do, and offer `offer`. */
  | { type: 'ended'; headline: string; lines: string[]; offer: TerminalOffer }
  /** After mongosh exited with an error: the reason, then offer to start it again. */
  | { type: 'failed'; headline: string; lines: string[]; offer: TerminalOffer }
  /** A line to show (e.g. "starting a new session…"); with `offer`, the wait for a key goes on after it. */
  | { type: 'notice'; text: string; offer?: TerminalOffer };

/** Wrapper → extension. */
export type FromTerminal =
  /** The first message: which terminal this is (the key the extension put in the terminal's environment). */
  | { type: 'hello'; key: string }
  /** mongosh exited on its own (not because the session ended). */
  | { type: 'exited'; code: number | null; signal: string | null }
  /** The user pressed R: start mongosh again, in a new session if this one ended. */
  | { type: 'retry' };

/** Environment variables the terminal gets: where the extension listens, and this terminal's key. */
export const TERMINAL_ENV = Object.freeze({
  channel: 'PORTCULLIS_TERMINAL_CHANNEL',
  key: 'PORTCULLIS_TERMINAL_KEY',
} as const);

/** A line longer than this is not a message of ours: the connection is dropped. */
export const MAX_LINE_BYTES = 64 * 1024;

export function encodeMessage(message: ToTerminal | FromTerminal): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * Splits a byte stream into messages. Calls `onMessage` for each well-formed object with a string `type`, and
 * `onError` once for an over-long line or one that is not JSON (the caller closes the connection).
 */
export function messageReader(
  onMessage: (message: { type: string } & Record<string, unknown>) => void,
  onError: (problem: string) => void,
) {
  let buffered = '';
  let failed = false;
  return (chunk: Buffer | string): void => {
    if (failed) return;
    buffered += chunk.toString();
    for (;;) {
      const end = buffered.indexOf('\n');
      if (end < 0) break;
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        failed = true;
        onError('a message was not JSON');
        return;
      }
      if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') {
        failed = true;
        onError('a message had no type');
        return;
      }
      onMessage(value as { type: string } & Record<string, unknown>);
    }
    if (Buffer.byteLength(buffered) > MAX_LINE_BYTES) {
      failed = true;
      onError('a message was too long');
    }
  };
}
