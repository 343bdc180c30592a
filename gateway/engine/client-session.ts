import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { PolicyRule } from '../../protocol/policy';
import type { ConnectionEvent } from '../../protocol/session-log';
import { CommandPolicy } from '../policy/command-policy';
import { filterListDatabasesReply } from '../policy/list-databases-filter';
import { CommandRecorder } from '../recording/recorder';
import { replyHasMoreToCome } from '../recording/reply-summary';
import { type AuthenticatedUpstream, connectUpstream, databaseLabel, UpstreamFailure } from '../upstream/connect-upstream';
import { parseConnectionString } from '../upstream/connection-string';
import { BSON_TYPES, keyIs, walkDocument } from '../wire/bson-walk';
import { type CommandIdentity, CommandRefused, readCommand } from '../wire/command-identity';
import { DEFAULT_MAX_MESSAGE_SIZE, OP_CODES } from '../wire/constants';
import { errorReplyFor, type ReplyError, type RequestRef } from '../wire/error-reply';
import { MONGO_ERROR_CODES, WireProtocolError } from '../wire/errors';
import { MessageFramer } from '../wire/framer';
import { findOpMsgBody } from '../wire/op-msg';
import { peekResponseTo } from '../wire/peek';
import { AddressHider, isDiagnosticCommand, replyNeedsHiding } from './address-hiding';
import { locateBadFrame } from './bad-frame';
import {
  describeClientMetadata,
  isHelloCommand,
  type Presentation,
  presentationFor,
  rewriteHelloReply,
  rewriteHelloRequest,
} from './handshake';
import {
  DEFAULT_GATEWAY_LIMITS,
  type GatewayLimits,
  messageDeadlineMs,
  type PendingBytesBudget,
  processPendingBytesBudget,
} from './limits';
import type { ServeClientOptions, ServedClientStats } from './serve-client';

/**
 * connecting: upstream being opened, client messages queued. ready: relaying. failed: the upstream could not be
 * reached; the next client command gets the reason. closing: a last reply was written, waiting for the client to
 * hang up. closed: both sides destroyed.
 */
const PHASES = Object.freeze({ connecting: 'connecting', ready: 'ready', failed: 'failed', closing: 'closing', closed: 'closed' } as const);
type Phase = (typeof PHASES)[keyof typeof PHASES];

/** After answering a failed connection's first command, give the client this long to read it and hang up. */
const FAILED_LINGER_MS = 5_000;
/** A client that never sends a command after the upstream failed is dropped after this long. */
const FAILED_IDLE_MS = 30_000;

/** Replies the gateway makes itself get request ids from a range drivers' own counters are unlikely to reach. */
let gatewayRequestId = 0x40000000;
function nextGatewayRequestId(): number {
  gatewayRequestId = gatewayRequestId >= 0x7ffffff0 ? 0x40000000 : gatewayRequestId + 1;
  return gatewayRequestId;
}

/** The hosts of a connection string (for `mongodb+srv`, its SRV name), to hide before the upstream is known. */
function seedHostsOf(connectionString: string): string[] {
  try {
    const parsed = parseConnectionString(connectionString);
    return [
      ...parsed.hosts.map((h) => h.host),
      ...(parsed.srvName ? [parsed.srvName] : []),
      ...(parsed.replicaSet ? [parsed.replicaSet] : []),
    ];
  } catch {
    return [];
  }
}

/** `cursor.id` of a reply's body, when it opens a cursor. */
function cursorIdOf(raw: Buffer): bigint | undefined {
  const body = raw.readInt32LE(12) === OP_CODES.msg ? findOpMsgBody(raw) : -1;
  if (body === -1) return undefined;
  let id: bigint | undefined;
  walkDocument(raw, body.start, body.start + body.size, 'reply', (element) => {
    if (!keyIs(raw, element, 'cursor') || element.type !== BSON_TYPES.document) return true;
    walkDocument(raw, element.valueStart, element.valueEnd, 'cursor', (field) => {
      if (keyIs(raw, field, 'id') && field.type === BSON_TYPES.int64) id = raw.readBigInt64LE(field.valueStart);
    });
    return false;
  });
  return id;
}

function requestRefOf(identity: CommandIdentity): RequestRef {
  return { opCode: identity.opCode, requestId: identity.requestId };
}

function asReplyError(error: unknown, fallbackMessage: string): ReplyError {
  if (error instanceof WireProtocolError || error instanceof UpstreamFailure) {
    return { code: error.code, codeName: error.codeName, message: error.message };
  }
  return { code: MONGO_ERROR_CODES.InternalError, codeName: 'InternalError', message: `${fallbackMessage}: ${(error as Error).message}` };
}

/**
 * One client byte stream and its one upstream connection: authenticate upstream first, then relay every message,
 * rewriting only the handshake and refusing client authentication, and record each command.
 */
export class ClientSession {
  private phase: Phase = PHASES.connecting;
  private upstream: Socket | undefined;
  private upstreamInfo: AuthenticatedUpstream | undefined;
  private presentation: Presentation | undefined;
  private readonly clientFramer = new MessageFramer({ maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE });
  private readonly upstreamFramer = new MessageFramer({ maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE });
  private readonly recorder: CommandRecorder;
  /** Client messages that arrived while the upstream was being opened. */
  private queued: Buffer[] = [];
  /** Request ids of hellos whose replies must be rewritten. */
  private readonly pendingHellos = new Set<number>();
  /** Request ids of diagnostic commands whose replies are rewritten to hide internal addresses. */
  private readonly pendingDiagnostics = new Set<number>();
  /** Cursors opened by diagnostic commands: their getMore replies are rewritten too. */
  private readonly diagnosticCursors = new Set<bigint>();
  /** Request ids of listDatabases whose replies keep only the databases the account's policy allows. */
  private readonly pendingDatabaseLists = new Map<number, CommandPolicy>();
  private readonly policy: () => CommandPolicy | undefined;
  private hider: AddressHider;
  private opened = false;
  private failure: UpstreamFailure | undefined;
  private failedTimer: NodeJS.Timeout | undefined;
  private closeReason: string | undefined;
  private bytesFromClient = 0;
  private bytesToClient = 0;
  private clientPausedForUpstream = false;
  private upstreamPausedForClient = false;
  private resolveDone!: () => void;
  readonly done: Promise<void>;
  private readonly limits: GatewayLimits;
  private readonly pendingBudget: PendingBytesBudget;
  /** Bytes of an incomplete client message this connection holds from the shared budget. */
  private heldBytes = 0;
  /** When the incomplete message started arriving, and the timer that ends the connection if it never completes. */
  private pendingSince = 0;
  private pendingTimer: NodeJS.Timeout | undefined;
  private pendingTimerLength = -1;

  constructor(
    private readonly client: Duplex,
    private readonly options: ServeClientOptions,
  ) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    this.limits = { ...DEFAULT_GATEWAY_LIMITS, ...options.limits };
    if (options.policy) this.policy = options.policy;
    else {
      const fixed = options.target.policy
        ? new CommandPolicy(options.target.policy, options.target.accountName ?? 'of this session')
        : undefined;
      this.policy = () => fixed;
    }
    this.hider = new AddressHider(options.target.resourceName, seedHostsOf(options.target.connectionString));
    this.pendingBudget = options.pendingBudget ?? processPendingBytesBudget();
    this.recorder = new CommandRecorder({
      connectionId: options.connectionId,
      onEvent: options.onEvent,
      onCommandStart: options.onCommandStart,
      maskPatterns: options.maskPatterns ?? [],
      maxEventBytes: options.maxEventBytes ?? 8192,
    });
  }

  start(): void {
    const client = this.client;
    (client as Partial<Socket>).setNoDelay?.(true);
    client.on('data', (chunk: Buffer) => this.onClientData(chunk));
    client.on('end', () => {
      // While closing, a last reply may still be in flight: let 'close' or the linger timer end it.
      if (this.phase !== PHASES.closing) this.finish();
    });
    client.on('close', () => this.finish());
    client.on('error', (error: NodeJS.ErrnoException) => {
      // A reset is how many clients hang up; it is not worth a reason in the log.
      const normal = error.code === 'ECONNRESET' || error.code === 'EPIPE';
      this.finish(normal ? undefined : `the client connection failed: ${error.message}`);
    });
    connectUpstream(this.options.target, { resolver: this.options.resolver, connectTimeoutMs: this.options.connectTimeoutMs }).then(
      (upstream) => this.onUpstreamReady(upstream),
      (error: unknown) => this.onUpstreamFailed(error),
    );
  }

  stats(): ServedClientStats {
    const counts = this.recorder.counts();
    return {
      commands: counts.commands,
      handshakeCommands: counts.handshakeCommands,
      bytesFromClient: this.bytesFromClient,
      bytesToClient: this.bytesToClient,
    };
  }

  close(reason?: string): void {
    this.finish(reason ?? 'closed by the gateway');
  }

  // ---- upstream lifecycle -------------------------------------------------------------------------------------

  private onUpstreamReady(info: AuthenticatedUpstream): void {
    if (this.phase !== PHASES.connecting) {
      info.socket.destroy();
      return;
    }
    this.phase = PHASES.ready;
    this.upstreamInfo = info;
    this.learnUpstreamNames(info);
    this.presentation = presentationFor(info.role, info.loadBalanced);
    this.clientFramer.maxMessageSize = info.maxMessageSizeBytes;
    this.upstreamFramer.maxMessageSize = info.maxMessageSizeBytes;
    const upstream = info.socket;
    this.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => this.onUpstreamData(chunk));
    // While closing, the gateway itself destroyed the upstream; the client still reads its last reply.
    upstream.on('close', () => {
      if (this.phase !== PHASES.closing) this.finish('the database closed the connection');
    });
    upstream.on('error', (error: Error) => this.finish(`the database connection failed: ${error.message}`));
    upstream.resume();
    const queued = this.queued;
    this.queued = [];
    if (queued.length > 0) this.relayClientMessages(queued);
    if (!this.clientPausedForUpstream) this.client.resume();
  }

  private onUpstreamFailed(error: unknown): void {
    const failure =
      error instanceof UpstreamFailure
        ? error
        : new UpstreamFailure(
            `Portcullis gateway could not reach ${databaseLabel(this.options.target)}: ${(error as Error).message}`,
            'HostUnreachable',
          );
    // Recorded even when the client has already given up waiting: the database was still unreachable.
    if (this.phase === PHASES.connecting || this.phase === PHASES.closed) {
      const shown = this.hider.text(failure.message);
      this.emitConnectionEvent(
        shown === failure.message ? { phase: 'failed', message: shown } : { phase: 'failed', message: shown, detail: failure.message },
      );
      this.options.onDetail?.(failure.message);
    }
    if (this.phase !== PHASES.connecting) return;
    this.phase = PHASES.failed;
    this.failure = failure;
    const queued = this.queued;
    this.queued = [];
    if (queued.length > 0) this.answerFailed(queued[0]);
    else {
      this.client.resume();
      this.failedTimer = setTimeout(() => this.finish(), FAILED_IDLE_MS);
    }
  }

  /** Answers the client's first command with the reason the database cannot be reached, then hangs up. */
  private answerFailed(raw: Buffer): void {
    // The framer guarantees a whole header; compression is never negotiated, so the header's opcode is the format.
    const ref = { requestId: raw.readInt32LE(4), opCode: raw.readInt32LE(12) };
    const error = asReplyError(this.failure, '');
    this.writeClient(errorReplyFor(ref, { ...error, message: this.hider.text(error.message) }, nextGatewayRequestId()));
    this.endAfterReply();
  }

  // ---- client → upstream --------------------------------------------------------------------------------------

  private onClientData(chunk: Buffer): void {
    this.bytesFromClient += chunk.length;
    if (this.phase === PHASES.closed || this.phase === PHASES.closing) return;
    const bufferedBefore = this.clientFramer.bufferedBytes;
    let messages: Buffer[];
    try {
      messages = this.clientFramer.push(chunk);
    } catch (error) {
      this.onClientFramingError(chunk, bufferedBefore, error);
      return;
    }
    if (!this.accountPendingBytes()) return;
    if (messages.length === 0) return;
    if (this.phase === PHASES.connecting) {
      // Hold everything until the upstream is authenticated; drivers wait for their hello reply anyway.
      this.queued.push(...messages.map((m) => Buffer.from(m)));
      this.client.pause();
      return;
    }
    if (this.phase === PHASES.failed) {
      this.answerFailed(messages[0]);
      return;
    }
    this.relayClientMessages(messages);
  }

  /** Relays a batch of messages that arrived together; they leave together at uncork. */
  private relayClientMessages(messages: Buffer[]): void {
    const upstream = this.upstream!;
    upstream.cork();
    this.client.cork();
    try {
      for (const raw of messages) {
        if (this.phase !== PHASES.ready) break;
        this.relayClientMessage(raw);
      }
    } finally {
      upstream.uncork();
      this.client.uncork();
    }
  }

  /**
   * Forwards (or refuses) one message. What the message is comes from readCommand, which reads it from the bytes:
   * nothing here looks at a decoded document.
   */
  private relayClientMessage(raw: Buffer): void {
    let identity: CommandIdentity;
    try {
      identity = readCommand(raw, { maxNestingDepth: this.limits.maxNestingDepth });
    } catch (error) {
      if (!this.opened) this.emitOpened(undefined);
      if (error instanceof CommandRefused) this.refuse(raw, error.identity, error);
      else this.refuseMalformed(raw, error);
      return;
    }
    const hello = isHelloCommand(identity.name);
    if (!this.opened) this.emitOpened(hello ? describeClientMetadata(raw, identity) : undefined);
    // The account's policy, as it is now (it may change while the connection runs), decides on the same bytes.
    const policy = this.policy();
    if (policy) {
      const refusal = policy.check(raw, identity);
      if (refusal) {
        const error = { code: MONGO_ERROR_CODES.Unauthorized, codeName: 'Unauthorized', message: refusal.message };
        this.refuse(raw, identity, error, refusal.rule);
        return;
      }
      if (policy.filtersDatabases && identity.name.toLowerCase() === 'listdatabases') {
        this.pendingDatabaseLists.set(identity.requestId, policy);
      }
    }
    // Recorded before it is forwarded, so the write-ahead spool holds it before the server can run it. Handshake and
    // monitoring commands are only counted: nothing is rendered or written for them.
    try {
      this.recorder.onRequest(raw, identity);
    } catch (error) {
      this.refuseUnrecorded(identity, error);
      return;
    }
    if (this.isDiagnostic(raw, identity)) this.pendingDiagnostics.add(identity.requestId);
    if (hello) {
      this.pendingHellos.add(identity.requestId);
      this.writeUpstream(rewriteHelloRequest(raw, identity, this.upstreamInfo?.loadBalanced ?? false));
      return;
    }
    this.writeUpstream(raw);
  }

  /** A command that could not be recorded is not run: the client is told why, and this connection ends. */
  private refuseUnrecorded(identity: CommandIdentity, error: unknown): void {
    const message = `the command was not run: ${(error as Error).message}`;
    this.writeClient(
      errorReplyFor(
        requestRefOf(identity),
        { code: MONGO_ERROR_CODES.OperationFailed, codeName: 'OperationFailed', message },
        nextGatewayRequestId(),
      ),
    );
    this.options.onDetail?.(message);
    this.endAfterReply(message);
  }

  /** Answers one request with an error and records both; the connection stays open. */
  private refuse(raw: Buffer, identity: CommandIdentity, error: ReplyError, refusedBy?: PolicyRule): void {
    try {
      this.recorder.onRequest(raw, identity, {
        alwaysLog: true,
        refusedBy,
        authenticationRefused: error.codeName === 'AuthenticationFailed',
      });
    } catch (spoolError) {
      // Refused either way; the failure to record it is the gateway's own problem to report.
      this.options.onDetail?.(`a refused command could not be recorded: ${(spoolError as Error).message}`);
    }
    const reply = errorReplyFor(
      requestRefOf(identity),
      { code: error.code, codeName: error.codeName, message: error.message },
      nextGatewayRequestId(),
    );
    this.recorder.onReply(reply);
    this.writeClient(reply);
  }

  /** A message that does not parse: answer it when its header is readable, then close this connection only. */
  private refuseMalformed(raw: Buffer, error: unknown): void {
    if (raw.length >= 16) {
      const ref = { requestId: raw.readInt32LE(4), opCode: raw.readInt32LE(12) };
      this.writeClient(errorReplyFor(ref, asReplyError(error, 'the message could not be read'), nextGatewayRequestId()));
    }
    this.endAfterReply(`the client sent a malformed message: ${(error as Error).message}`);
  }

  /**
   * Keeps the bytes of an incomplete message within the shared budget and its arrival within its deadline; ends
   * the connection (false) when either is exceeded. Whole messages are never held, so this costs nothing then.
   */
  private accountPendingBytes(): boolean {
    const held = this.clientFramer.bufferedBytes;
    if (held === 0 && this.heldBytes === 0) return true;
    const delta = held - this.heldBytes;
    if (delta > 0 && !this.pendingBudget.tryTake(delta)) {
      this.failPendingMessage(
        'ExceededMemoryLimit',
        `the Portcullis gateway is holding too many partly received messages (limit ${this.pendingBudget.limit} bytes across all connections); send the command again`,
      );
      return false;
    }
    if (delta < 0) this.pendingBudget.give(-delta);
    this.heldBytes = held;
    if (held === 0) {
      clearTimeout(this.pendingTimer);
      this.pendingTimer = undefined;
      this.pendingTimerLength = -1;
      return true;
    }
    const length = this.clientFramer.pendingMessageLength;
    if (!this.pendingTimer) this.pendingSince = Date.now();
    if (!this.pendingTimer || length !== this.pendingTimerLength) {
      clearTimeout(this.pendingTimer);
      const deadline = messageDeadlineMs(this.limits, length);
      this.pendingTimerLength = length;
      this.pendingTimer = setTimeout(
        () =>
          this.failPendingMessage(
            'NetworkTimeout',
            `a message stopped arriving: ${this.clientFramer.bufferedBytes} of ${length > 0 ? length : '?'} bytes in ${Math.round(deadline / 1000)} s (the Portcullis gateway's message timeout)`,
          ),
        Math.max(0, this.pendingSince + deadline - Date.now()),
      );
      this.pendingTimer.unref?.();
    }
    return true;
  }

  /** Answers the incomplete message (when its header is in) with the reason, then ends the connection. */
  private failPendingMessage(codeName: 'ExceededMemoryLimit' | 'NetworkTimeout', message: string): void {
    const header = this.clientFramer.pendingHeader();
    if (header) {
      const ref = { requestId: header.readInt32LE(4), opCode: header.readInt32LE(12) };
      this.writeClient(errorReplyFor(ref, { code: MONGO_ERROR_CODES[codeName], codeName, message }, nextGatewayRequestId()));
    }
    this.endAfterReply(message);
  }

  private releasePendingBytes(): void {
    clearTimeout(this.pendingTimer);
    this.pendingTimer = undefined;
    this.pendingBudget.give(this.heldBytes);
    this.heldBytes = 0;
  }

  private onClientFramingError(chunk: Buffer, bufferedBefore: number, error: unknown): void {
    const ref = bufferedBefore === 0 ? locateBadFrame(chunk, this.clientFramer.maxMessageSize) : undefined;
    if (ref) this.writeClient(errorReplyFor(ref, asReplyError(error, 'the message could not be read'), nextGatewayRequestId()));
    this.endAfterReply(`the client sent a malformed message: ${(error as Error).message}`);
  }

  /** Ends the client side gracefully (so a reply just written is delivered) and the upstream at once. */
  private endAfterReply(reason?: string): void {
    if (this.phase === PHASES.closed || this.phase === PHASES.closing) return;
    // A connection whose first message was malformed still gets opened/closed events, so the attempt is on record.
    if (reason && !this.opened && this.phase !== PHASES.failed) this.emitOpened(undefined);
    this.phase = PHASES.closing;
    this.closeReason = reason;
    this.releasePendingBytes();
    clearTimeout(this.failedTimer);
    this.failedTimer = setTimeout(() => this.finish(), FAILED_LINGER_MS);
    this.upstream?.destroy();
    this.client.end();
  }

  // ---- upstream → client --------------------------------------------------------------------------------------

  private onUpstreamData(chunk: Buffer): void {
    if (this.phase === PHASES.closed) return;
    let messages: Buffer[];
    try {
      messages = this.upstreamFramer.push(chunk);
    } catch (error) {
      this.finish(`the database sent a malformed message: ${(error as Error).message}`);
      return;
    }
    if (messages.length === 0) return;
    // Forward first (the replies leave at uncork), record second.
    this.client.cork();
    try {
      for (let i = 0; i < messages.length; i++) {
        let raw = messages[i];
        const responseTo = peekResponseTo(raw);
        const databaseList = this.pendingDatabaseLists.size > 0 ? this.pendingDatabaseLists.get(responseTo) : undefined;
        if (databaseList) {
          this.pendingDatabaseLists.delete(responseTo);
          // The recorder gets what the client got.
          messages[i] = raw = this.filteredDatabaseList(raw, databaseList);
          if (this.phase !== PHASES.ready) break;
        }
        if (this.pendingHellos.size > 0 && this.pendingHellos.delete(responseTo)) {
          this.forwardHelloReply(raw);
        } else if ((this.pendingDiagnostics.size > 0 && this.pendingDiagnostics.has(responseTo)) || replyNeedsHiding(raw)) {
          // The recorder gets what the client got: a session log is read by members too.
          messages[i] = this.forwardHiddenReply(raw, responseTo);
        } else {
          this.writeClient(raw);
        }
        if (this.phase !== PHASES.ready) break;
      }
    } finally {
      this.client.uncork();
    }
    for (const raw of messages) this.recorder.onReply(raw);
  }

  /** A listDatabases reply with only the databases the policy allows; one that cannot be read is not forwarded. */
  private filteredDatabaseList(raw: Buffer, policy: CommandPolicy): Buffer {
    try {
      return filterListDatabasesReply(raw, (name) => policy.allowsDatabase(name));
    } catch (error) {
      this.finish(`the database sent a listDatabases reply the gateway could not read: ${(error as Error).message}`);
      return raw;
    }
  }

  /** Rewrites a hello reply; one that cannot be read is not forwarded (it could name internal hosts). */
  private forwardHelloReply(raw: Buffer): void {
    let rewritten: ReturnType<typeof rewriteHelloReply>;
    try {
      rewritten = rewriteHelloReply(raw, this.presentation!);
    } catch (error) {
      this.finish(`the database sent a hello reply the gateway could not read: ${(error as Error).message}`);
      return;
    }
    if (rewritten.maxMessageSizeBytes !== undefined) {
      this.clientFramer.maxMessageSize = rewritten.maxMessageSizeBytes;
      this.upstreamFramer.maxMessageSize = rewritten.maxMessageSizeBytes;
    }
    this.writeClient(rewritten.message);
  }

  /** Forwards a reply with internal addresses hidden; one that cannot be read is not forwarded at all. */
  private forwardHiddenReply(raw: Buffer, responseTo: number): Buffer {
    const diagnostic = this.pendingDiagnostics.delete(responseTo);
    let hidden: Buffer;
    try {
      hidden = this.hider.reply(raw);
    } catch (error) {
      this.finish(`the database sent a reply the gateway could not read: ${(error as Error).message}`);
      return raw;
    }
    if (diagnostic) {
      const cursor = cursorIdOf(hidden);
      if (cursor !== undefined && cursor !== 0n) this.diagnosticCursors.add(cursor);
      // An exhaust stream answers this reply's id next.
      if (replyHasMoreToCome(hidden)) this.pendingDiagnostics.add(hidden.readInt32LE(4));
    }
    this.writeClient(hidden);
    return hidden;
  }

  private isDiagnostic(raw: Buffer, identity: CommandIdentity): boolean {
    if (identity.name === 'getMore' || identity.name === 'killCursors') {
      const first = identity.fields[0];
      return first.type === BSON_TYPES.int64 && this.diagnosticCursors.has(raw.readBigInt64LE(first.valueStart));
    }
    return isDiagnosticCommand(raw, identity);
  }

  /** What the servers call themselves and where the gateway reached them: names to hide from now on. */
  private learnUpstreamNames(info: AuthenticatedUpstream): void {
    this.hider.learn(info.address.host);
    for (const field of ['me', 'primary', 'setName']) if (typeof info.hello[field] === 'string') this.hider.learn(info.hello[field]);
    for (const field of ['hosts', 'passives', 'arbiters']) {
      const list = info.hello[field];
      if (Array.isArray(list)) for (const host of list) if (typeof host === 'string') this.hider.learn(host);
    }
    if (info.socket.remoteAddress) this.hider.learn(info.socket.remoteAddress);
  }

  // ---- writes with backpressure -------------------------------------------------------------------------------

  private writeUpstream(buf: Buffer): void {
    const upstream = this.upstream!;
    if (upstream.write(buf) || this.clientPausedForUpstream) return;
    this.clientPausedForUpstream = true;
    this.client.pause();
    upstream.once('drain', () => {
      this.clientPausedForUpstream = false;
      if (this.phase === PHASES.ready) this.client.resume();
    });
  }

  private writeClient(buf: Buffer): void {
    this.bytesToClient += buf.length;
    if (this.client.write(buf) || this.upstreamPausedForClient || !this.upstream) return;
    const upstream = this.upstream;
    this.upstreamPausedForClient = true;
    upstream.pause();
    this.client.once('drain', () => {
      this.upstreamPausedForClient = false;
      upstream.resume();
    });
  }

  // ---- events and teardown ------------------------------------------------------------------------------------

  private emitOpened(clientMetadata: string | undefined): void {
    this.opened = true;
    this.emitConnectionEvent({ phase: 'opened', message: clientMetadata });
  }

  private emitConnectionEvent(fields: Pick<ConnectionEvent, 'phase'> & Partial<ConnectionEvent>): void {
    const event: ConnectionEvent = {
      kind: 'connection',
      time: new Date().toISOString(),
      connectionId: this.options.connectionId,
      ...fields,
    };
    if (event.message === undefined) delete event.message;
    try {
      this.options.onEvent(event);
    } catch {
      // A failing event sink must not take the connection down.
    }
  }

  private finish(reason?: string): void {
    if (this.phase === PHASES.closed) return;
    const wasOpened = this.opened;
    this.phase = PHASES.closed;
    clearTimeout(this.failedTimer);
    this.releasePendingBytes();
    this.recorder.flush();
    this.upstream?.destroy();
    this.client.destroy();
    if (wasOpened) {
      const stats = this.stats();
      const full = this.closeReason ?? reason;
      const message = full === undefined ? undefined : this.hider.text(full);
      if (full !== undefined && message !== full) this.options.onDetail?.(full);
      this.emitConnectionEvent({
        phase: 'closed',
        message,
        ...(full !== undefined && message !== full ? { detail: full } : {}),
        commands: stats.commands,
        handshakeCommands: stats.handshakeCommands,
        bytesFromClient: stats.bytesFromClient,
        bytesToClient: stats.bytesToClient,
      });
    }
    this.resolveDone();
  }
}
