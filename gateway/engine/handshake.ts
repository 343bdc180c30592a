import { type Document, deserialize } from 'bson';
import { SERVER_ROLES, type ServerRole } from '../upstream/server-selection';
import { buildDocument, elementBytes, encodeElement, spliceMessage, withValue } from '../wire/bson-build';
import { BSON_TYPES, type BsonElement, keyIs, numberValue, walkDocument } from '../wire/bson-walk';
import type { CommandIdentity } from '../wire/command-identity';
import { HEADER_SIZE, OP_CODES, OP_MSG_FLAGS } from '../wire/constants';
import { WireProtocolError } from '../wire/errors';
import { findOpMsgBody } from '../wire/op-msg';
import { OP_REPLY_DOCUMENTS_OFFSET } from '../wire/op-reply';

/** Commands that open or describe a connection; their replies are rewritten. */
export const HELLO_COMMANDS: ReadonlySet<string> = new Set(['hello', 'isMaster', 'ismaster']);

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

/** Elements of `elements` whose key is not in `removed` (exact bytes, as the server matches field names). */
function keptElements(raw: Buffer, elements: readonly BsonElement[], removed: readonly string[]): Buffer[] {
  return elements.filter((e) => !removed.some((key) => keyIs(raw, e, key))).map((e) => elementBytes(raw, e));
}

/**
 * The client's hello message as forwarded upstream, rebuilt from its bytes: the same request id, opcode and
 * elements in the same order, minus the fields the gateway owns; an OP_QUERY keeps its `$query` wrapper.
 */
export function rewriteHelloRequest(raw: Buffer, identity: CommandIdentity, upstreamLoadBalanced: boolean): Buffer {
  const kept = keptElements(raw, identity.fields, CLIENT_HELLO_FIELDS_REMOVED);
  if (upstreamLoadBalanced) kept.push(encodeElement('loadBalanced', true));
  const body = buildDocument(kept);
  if (identity.opCode === OP_CODES.msg) {
    const checksum = (identity.flags & OP_MSG_FLAGS.checksumPresent) !== 0;
    return spliceMessage(raw, identity.body.start, identity.body.end, body, {
      // Without exhaustAllowed the server answers each hello once instead of streaming replies.
      flags: identity.flags & ~(OP_MSG_FLAGS.exhaustAllowed | OP_MSG_FLAGS.checksumPresent),
      dropTail: checksum ? 4 : 0,
    });
  }
  if (!identity.wrapper) return spliceMessage(raw, identity.body.start, identity.body.end, body);
  // {$query: {isMaster: 1, ...}, $readPreference: ...}: the wrapper keeps its other elements, the command is replaced.
  const outer: Buffer[] = [];
  walkDocument(raw, identity.wrapper.start, identity.wrapper.end, 'OP_QUERY query', (element) => {
    outer.push(outer.length === 0 ? withValue(raw, element, body) : elementBytes(raw, element));
  });
  return spliceMessage(raw, identity.wrapper.start, identity.wrapper.end, buildDocument(outer));
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

/**
 * The server's hello reply message as the client gets it (OP_MSG or OP_REPLY, same ids), rebuilt from its bytes,
 * and the server's maxMessageSizeBytes when it says. Throws WireProtocolError when the reply cannot be read.
 */
export function rewriteHelloReply(raw: Buffer, presentation: Presentation): { message: Buffer; maxMessageSizeBytes?: number } {
  const opCode = raw.readInt32LE(12);
  let start: number;
  let end: number;
  let options: { flags?: number; dropTail?: number } = {};
  if (opCode === OP_CODES.msg) {
    const body = findOpMsgBody(raw);
    if (body === -1) throw new WireProtocolError('a hello reply OP_MSG has no readable body section');
    start = body.start;
    end = body.start + body.size;
    const flags = raw.readUInt32LE(HEADER_SIZE);
    // The gateway cleared exhaustAllowed, so there is no stream to continue.
    options = {
      flags: flags & ~(OP_MSG_FLAGS.moreToCome | OP_MSG_FLAGS.checksumPresent),
      dropTail: flags & OP_MSG_FLAGS.checksumPresent ? 4 : 0,
    };
  } else if (opCode === OP_CODES.reply && raw.length > OP_REPLY_DOCUMENTS_OFFSET + 4) {
    start = OP_REPLY_DOCUMENTS_OFFSET;
    end = start + raw.readInt32LE(start);
  } else {
    throw new WireProtocolError(`a hello reply must be an OP_MSG or an OP_REPLY with a document, not opcode ${opCode}`);
  }
  const elements: BsonElement[] = [];
  walkDocument(raw, start, Math.min(end, raw.length), 'hello reply', (element) => {
    elements.push(element);
  });
  const field = (key: string) => elements.find((e) => keyIs(raw, e, key));
  const ok = field('ok');
  const size = field('maxMessageSizeBytes');
  const maxMessageSizeBytes = size ? numberValue(raw, size) : undefined;
  const result = (message: Buffer) =>
    maxMessageSizeBytes !== undefined && maxMessageSizeBytes > 0 ? { message, maxMessageSizeBytes } : { message };
  // A failed hello names nothing to hide in these fields; its error text is sanitised like any other error.
  if (!ok || numberValue(raw, ok) !== 1) return result(spliceMessage(raw, start, end, raw.subarray(start, end), options));
  const mongos = presentation === PRESENTATIONS.mongos;
  const removed = mongos ? [...SERVER_HELLO_FIELDS_REMOVED, ...REPLICA_MEMBER_FIELDS, 'msg'] : SERVER_HELLO_FIELDS_REMOVED;
  const kept = keptElements(raw, elements, removed);
  if (mongos) kept.push(encodeElement('msg', 'isdbgrid'));
  return result(spliceMessage(raw, start, end, buildDocument(kept), options));
}

/** "driver nodejs 6.16.0, mongosh 2.5.0, app mongosh" from the client's hello metadata, for the opened event. */
export function describeClientMetadata(raw: Buffer, identity: CommandIdentity): string | undefined {
  const element = identity.fields.find((e) => keyIs(raw, e, 'client'));
  if (!element || element.type !== BSON_TYPES.document) return undefined;
  let client: Document;
  try {
    // Decoded only to be shown: nothing is decided on it.
    client = deserialize(raw.subarray(element.valueStart, element.valueEnd));
  } catch {
    return undefined;
  }
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
