import { performance } from 'node:perf_hooks';
import type { PolicyRule } from '../../protocol/policy';
import type { CommandEvent } from '../../protocol/session-log';
import { detectRisks } from '../risk/detectors';
import type { CommandIdentity } from '../wire/command-identity';
import { DEFAULT_MAX_MESSAGE_SIZE, OP_CODES } from '../wire/constants';
import { decompressMessage } from '../wire/op-compressed';
import { peekOpCode, peekRequestId, peekResponseTo } from '../wire/peek';
import { renderCommand } from './command-input';
import { isHandshakeCommand } from './handshake';
import type { RecordingOptions } from './options';
import { type ReplySummary, replyHasMoreToCome, summarizeReply } from './reply-summary';
import { capText } from './text-cap';
import { transactionIdOf } from './transaction-id';

export interface CommandRecorderOptions extends RecordingOptions {
  connectionId: string;
  /** A command's finished event; `started` is what onCommandStart returned for it. */
  onEvent(e: CommandEvent, started?: number): void;
  /**
   * A logged command is about to be forwarded (its outcome unknown yet): the write-ahead spool records it here.
   * Returns a number passed back with the finished event; throws when the command cannot be recorded (the engine
   * then refuses it: nothing runs unrecorded).
   */
  onCommandStart?(e: Omit<CommandEvent, 'outcome' | 'durationMs'>): number;
  /** Monotonic clock in ms for durations (default performance.now). */
  now?: () => number;
  /** Wall clock in epoch ms for the event time (default Date.now). */
  wallClock?: () => number;
  /** Cap for decompressing an OP_COMPRESSED reply (default 48 MB). */
  maxMessageSize?: number;
  /** Requests awaiting a reply beyond this are recorded as unanswered, oldest first (default 10,000). */
  maxOutstanding?: number;
}

/** Commands whose reply `n`/`nModified` counts documents written; for others (count, ...) `n` is a result. */
const WRITE_COMMANDS: ReadonlySet<string> = new Set(['insert', 'update', 'delete', 'findAndModify', 'findandmodify']);

/** Room kept in each event for the reply-side fields (error message up to 512 bytes, code, name, counts). */
const REPLY_FIELDS_RESERVE = 800;
const MIN_INPUT_BYTES = 64;

interface Pending {
  time: string;
  start: number;
  handshake: boolean;
  event?: Omit<CommandEvent, 'outcome' | 'durationMs'>;
  /** What onCommandStart returned. */
  started?: number;
  /** Documents in the earlier replies of an exhaust stream. */
  documents?: number;
  /** The policy rule that refused the command (the gateway answered it; the database never saw it). */
  refusedBy?: PolicyRule;
}

/**
 * Turns one connection's requests and replies into CommandEvents: one per client command, matched by
 * responseTo. Handshake commands (see handshake.ts) are only counted. Throws only what onEvent throws: a request
 * or reply it cannot read is still recorded as well as it can be.
 */
export class CommandRecorder {
  private readonly options: CommandRecorderOptions;
  private readonly now: () => number;
  private readonly wallClock: () => number;
  private readonly outstanding = new Map<number, Pending>();
  private commands = 0;
  private handshakeCommands = 0;

  constructor(options: CommandRecorderOptions) {
    this.options = options;
    this.now = options.now ?? (() => performance.now());
    this.wallClock = options.wallClock ?? Date.now;
  }

  /**
   * Call with every client command (read by readCommand), before its reply is passed to onReply: the engine calls
   * it just after forwarding, so that recording is off the latency path. Handshake and monitoring commands are only
   * counted, and decided on the command's identity before anything is rendered.
   */
  onRequest(
    raw: Buffer,
    identity: CommandIdentity,
    options: { alwaysLog?: boolean; refusedBy?: PolicyRule; authenticationRefused?: boolean } = {},
  ): void {
    const start = this.now();
    this.commands++;
    // A handshake the gateway refused (a hello carrying credentials) is an attempt worth a line in the log.
    if (!options.alwaysLog && isHandshakeCommand(identity.name)) {
      this.handshakeCommands++;
      return; // its reply finds nothing outstanding and is dropped
    }
    const time = new Date(this.wallClock()).toISOString();
    let rendered: ReturnType<typeof renderCommand>;
    try {
      rendered = renderCommand(raw, identity, this.options);
    } catch (error) {
      rendered = {
        database: identity.database,
        command: identity.name,
        input: JSON.stringify({ error: `the command could not be rendered: ${(error as Error).message}` }),
        elided: false,
      };
    }
    const event: Omit<CommandEvent, 'outcome' | 'durationMs'> = {
      kind: 'command',
      time,
      connectionId: this.options.connectionId,
      database: rendered.database,
      command: rendered.command,
      input: '',
    };
    if (rendered.collection !== undefined) event.collection = rendered.collection;
    const transaction = transactionIdOf(raw, identity);
    if (transaction !== undefined) event.transaction = transaction;
    // From the same bytes, before the command is forwarded: a reviewer's flags travel with the event (and its spool record).
    const flags = detectRisks(raw, identity, { refusedBy: options.refusedBy, authenticationRefused: options.authenticationRefused });
    if (flags.length > 0) event.flags = flags;
    const skeleton = Buffer.byteLength(JSON.stringify({ ...event, outcome: 'error', durationMs: 1e9, truncated: true }), 'utf8');
    const capped = capText(rendered.input, Math.max(MIN_INPUT_BYTES, this.options.maxEventBytes - skeleton - REPLY_FIELDS_RESERVE));
    event.input = capped.text;
    if (capped.truncated || rendered.elided) event.truncated = true;
    // Before the command is forwarded: a throw here (the spool cannot be written) keeps it from running.
    const started = this.options.onCommandStart?.(event);
    this.track(identity, { time, start, handshake: false, event, started, refusedBy: options.refusedBy }, start);
  }

  /** Waits for the command's reply, or records it at once when the server sends none. */
  private track(identity: CommandIdentity, pending: Pending, start: number): void {
    if (identity.moreToCome) {
      // The server sends no reply to this request: it is done as far as the client can tell.
      this.emit(pending, { ok: true }, start);
      return;
    }
    const requestId = identity.requestId;
    const previous = this.outstanding.get(requestId);
    if (previous) {
      this.outstanding.delete(requestId);
      this.emit(previous, { ok: false, errorMessage: 'the client reused this request id before the reply arrived' }, start, 'unknown');
    }
    this.outstanding.set(requestId, pending);
    this.evictOverflow(start);
  }

  /** Call with every server reply (a whole raw message), before or after it is forwarded. */
  onReply(raw: Buffer): void {
    const end = this.now();
    let reply = raw;
    let responseTo: number;
    try {
      if (peekOpCode(raw) === OP_CODES.compressed) reply = decompressMessage(raw, this.options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE);
      responseTo = peekResponseTo(reply);
    } catch {
      return; // not attributable to a request; the engine reports broken replies itself
    }
    const pending = this.outstanding.get(responseTo);
    if (!pending) return; // a reply to a message the gateway sent itself
    this.outstanding.delete(responseTo);
    let summary: ReplySummary;
    try {
      summary = summarizeReply(reply, this.options.maxMessageSize);
    } catch (error) {
      summary = { ok: false, errorMessage: `the reply could not be read: ${(error as Error).message}` };
    }
    if (replyHasMoreToCome(reply)) {
      // Exhaust stream: the next reply answers this reply's requestId and belongs to the same command.
      if (summary.documents !== undefined) pending.documents = (pending.documents ?? 0) + summary.documents;
      this.outstanding.set(peekRequestId(reply), pending);
      return;
    }
    this.emit(pending, summary, end);
  }

  /** Records every command still waiting for a reply with outcome unknown and `reason` (call when the connection ends). */
  flush(reason = 'the connection closed before the reply arrived'): void {
    const end = this.now();
    const all = [...this.outstanding.values()];
    this.outstanding.clear();
    const seen = new Set<Pending>();
    for (const pending of all) {
      if (seen.has(pending)) continue;
      seen.add(pending);
      this.emit(pending, { ok: false, errorMessage: reason }, end, 'unknown');
    }
  }

  counts(): { commands: number; handshakeCommands: number } {
    return { commands: this.commands, handshakeCommands: this.handshakeCommands };
  }

  private evictOverflow(now: number): void {
    const max = this.options.maxOutstanding ?? 10_000;
    while (this.outstanding.size > max) {
      const [oldestId, oldest] = this.outstanding.entries().next().value as [number, Pending];
      this.outstanding.delete(oldestId);
      this.emit(oldest, { ok: false, errorMessage: 'no reply was seen for this command' }, now, 'unknown');
    }
  }

  private emit(pending: Pending, summary: ReplySummary, end: number, outcome?: 'unknown'): void {
    if (pending.handshake || !pending.event) return;
    const event: CommandEvent = {
      ...pending.event,
      outcome: pending.refusedBy ? 'refused' : (outcome ?? (summary.ok ? 'ok' : 'error')),
      durationMs: Math.max(0, Math.round((end - pending.start) * 1000) / 1000),
    };
    const documents = summary.documents === undefined ? pending.documents : summary.documents + (pending.documents ?? 0);
    if (documents !== undefined) event.documents = documents;
    if (summary.affected !== undefined && WRITE_COMMANDS.has(event.command)) event.affected = summary.affected;
    if (summary.errorCode !== undefined) event.errorCode = summary.errorCode;
    if (summary.errorName !== undefined) event.errorName = summary.errorName;
    if (summary.errorMessage !== undefined) event.errorMessage = summary.errorMessage;
    if (pending.refusedBy) event.policy = pending.refusedBy;
    this.options.onEvent(event, pending.started);
  }
}
