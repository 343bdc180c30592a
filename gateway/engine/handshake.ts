import type { Document } from 'bson';
import { SERVER_ROLES, type ServerRole } from '../upstream/server-selection';
import { OP_MSG_FLAGS } from '../wire/constants';
import { WireProtocolError } from '../wire/errors';
import { type CommandInfo, type ParsedMessage, parseMessage } from '../wire/message';
import { encodeOpMsg } from '../wire/op-msg';
import { encodeOpQuery } from '../wire/op-query';
import { encodeOpReply } from '../wire/op-reply';

/** Commands that open or describe a connection; their replies are rewritten. */
export const HELLO_COMMANDS: ReadonlySet<string> = new Set(['hello', 'isMaster', 'ismaster']);

/** Client authentication commands: the gateway authenticates upstream itself and never forwards these. */
export const CLIENT_AUTH_COMMANDS: ReadonlySet<string> = new Set(['saslStart', 'saslContinue', 'authenticate', 'logout']);

export const CLIENT_AUTH_REFUSED_MESSAGE = 'authentication is handled by the Portcullis gateway; connect without credentials';

/**
 * Fields removed from the client's hello: authentication and compression are the gateway's business, and the
 * topology fields would ask for a streaming (awaitable) hello, which this gateway does not relay.
 */
const CLIENT_HELLO_FIELDS_REMOVED = [
  'speculativeAuthenticate',
  'saslSupportedMechs',
  'compression',
  'topologyVersion',
  'maxAwaitTimeMS',
  'loadBalanced',
];

/**
 * Fields removed from the server's hello reply: anything that names internal hosts or the replica set (so a
 * client never runs discovery against them), authentication and compression negotiation, and topologyVersion
 * (so the client keeps polling instead of asking for streamed replies).
 */
const SERVER_HELLO_FIELDS_REMOVED = [
  'hosts',
  'passives',
  'arbiters',
  'me',
  'primary',
  'setName',
  'setVersion',
  'electionId',
  'tags',
  'topologyVersion',
  'speculativeAuthenticate',
  'saslSupportedMechs',
  'compression',
  'serviceId',
];

/** Member-only fields that a mongos never sends. */
const REPLICA_MEMBER_FIELDS = ['secondary', 'arbiterOnly', 'passive', 'hidden', 'isreplicaset', 'lastWrite'];

export function isHelloCommand(name: string): boolean {
  return HELLO_COMMANDS.has(name);
}

export function isClientAuthCommand(name: string): boolean {
  return CLIENT_AUTH_COMMANDS.has(name);
}

/** The client's hello as forwarded upstream: a copy, its metadata (`client`) kept. */
export function rewriteClientHello(body: Document, upstreamLoadBalanced: boolean): Document {
  const out: Document = { ...body };
  for (const field of CLIENT_HELLO_FIELDS_REMOVED) delete out[field];
  if (upstreamLoadBalanced) out.loadBalanced = true;
  return out;
}

/** The client's hello message re-encoded for upstream, same request id, in its own opcode. */
export function rewriteHelloRequest(parsed: ParsedMessage, command: CommandInfo, upstreamLoadBalanced: boolean): Buffer {
  const rewritten = rewriteClientHello(command.body, upstreamLoadBalanced);
  if (parsed.kind === 'msg') {
    const { header, flags, sequences } = parsed.msg;
    return encodeOpMsg({
      requestId: header.requestId,
      // Without exhaustAllowed the server answers each hello once instead of streaming replies.
      flags: flags & ~(OP_MSG_FLAGS.exhaustAllowed | OP_MSG_FLAGS.checksumPresent),
      body: rewritten,
      sequences,
    });
  }
  if (parsed.kind === 'query') {
    const q = parsed.query;
    // commandOf unwraps {$query: {...}, $readPreference} (or `query`); put the rewritten command back in its place.
    const wrapper = ['$query', 'query'].find((key) => q.query[key] === command.body);
    return encodeOpQuery({
      requestId: q.header.requestId,
      flags: q.flags,
      fullCollectionName: q.fullCollectionName,
      numberToSkip: q.numberToSkip,
      numberToReturn: q.numberToReturn,
      query: wrapper ? { ...q.query, [wrapper]: rewritten } : rewritten,
      returnFieldsSelector: q.returnFieldsSelector,
    });
  }
  throw new WireProtocolError('a hello must be an OP_MSG or OP_QUERY');
}

/** How the upstream is shown to the client: always one server that needs no discovery. */
export const PRESENTATIONS = Object.freeze({ mongos: 'mongos', standalone: 'standalone' } as const);
export type Presentation = (typeof PRESENTATIONS)[keyof typeof PRESENTATIONS];

/**
 * A replica-set member is shown as a mongos: drivers then keep sessions, transactions and retryable writes (a
 * standalone would lose them) and never look for other members. A standalone stays a standalone, because it
 * would refuse the transaction numbers a driver sends to a mongos.
 */
export function presentationFor(role: ServerRole, loadBalanced: boolean): Presentation {
  if (loadBalanced || role !== SERVER_ROLES.standalone) return PRESENTATIONS.mongos;
  return PRESENTATIONS.standalone;
}

/** The server's hello reply as the client sees it. */
export function rewriteServerHello(body: Document, presentation: Presentation): Document {
  if (body.ok !== 1 && body.ok !== true) return body;
  const out: Document = { ...body };
  for (const field of SERVER_HELLO_FIELDS_REMOVED) delete out[field];
  if (presentation === PRESENTATIONS.mongos) {
    for (const field of REPLICA_MEMBER_FIELDS) delete out[field];
    out.msg = 'isdbgrid';
  }
  return out;
}

/**
 * The server's hello reply message as the client gets it (OP_MSG or OP_REPLY, same ids), and the server's
 * maxMessageSizeBytes when it says. Throws WireProtocolError when the reply cannot be read.
 */
export function rewriteHelloReply(raw: Buffer, presentation: Presentation): { message: Buffer; maxMessageSizeBytes?: number } {
  const parsed = parseMessage(raw, { maxMessageSize: raw.length });
  let body: Document;
  let message: Buffer;
  if (parsed.kind === 'msg') {
    const { header, flags, sequences } = parsed.msg;
    body = parsed.msg.body;
    message = encodeOpMsg({
      requestId: header.requestId,
      responseTo: header.responseTo,
      // The gateway cleared exhaustAllowed, so there is no stream to continue.
      flags: flags & ~(OP_MSG_FLAGS.moreToCome | OP_MSG_FLAGS.checksumPresent),
      body: rewriteServerHello(body, presentation),
      sequences,
    });
  } else if (parsed.kind === 'reply' && parsed.reply.documents.length > 0) {
    const r = parsed.reply;
    body = r.documents[0];
    message = encodeOpReply({
      requestId: r.header.requestId,
      responseTo: r.header.responseTo,
      responseFlags: r.responseFlags,
      cursorId: r.cursorId,
      startingFrom: r.startingFrom,
      documents: [rewriteServerHello(body, presentation), ...r.documents.slice(1)],
    });
  } else {
    throw new WireProtocolError(`a hello reply must be an OP_MSG or an OP_REPLY with a document, not ${parsed.kind}`);
  }
  const size = body.maxMessageSizeBytes;
  return typeof size === 'number' && size > 0 ? { message, maxMessageSizeBytes: size } : { message };
}

/** "driver nodejs 6.16.0, mongosh 2.5.0, app mongosh" from the client's hello metadata, for the opened event. */
export function describeClientMetadata(body: Document | undefined): string | undefined {
  const client = body?.client;
  if (!client || typeof client !== 'object') return undefined;
  const parts: string[] = [];
  const driver = client.driver;
  if (driver && typeof driver === 'object') {
    const name = typeof driver.name === 'string' ? driver.name : 'unknown driver';
    parts.push(`driver ${name}${typeof driver.version === 'string' ? ` ${driver.version}` : ''}`);
  }
  const appName = client.application?.name;
  if (typeof appName === 'string') parts.push(`app ${appName}`);
  return parts.length > 0 ? parts.join(', ').slice(0, 300) : undefined;
}
