import { BSON_TYPES, type BsonElement, documentEnd, walkDocument } from './bson-walk';
import { nestingDepth } from './bson-nesting';
import { HEADER_SIZE, OP_CODES, OP_MSG_FLAGS } from './constants';
import { crc32c } from './crc32c';
import { type MongoErrorName, MONGO_ERROR_CODES, WireProtocolError } from './errors';
import { readWholeMessageHeader } from './header';

/*
 * What a client request is, read from its bytes and nothing else. The server takes a command's name from the
 * first element of the command document in byte order; a decoded JavaScript object enumerates integer-like keys
 * first and keeps only the last of duplicate keys, so every decision the gateway makes (refuse client
 * authentication, rewrite the handshake, name the command in the log) starts here instead.
 */

/** [start, end) of a BSON document inside the raw message. */
export interface DocumentRange {
  start: number;
  end: number;
}

export interface SequenceRange {
  identifier: string;
  /** The whole section, from its kind byte to its end (copied as-is when a message is rebuilt). */
  section: DocumentRange;
  /** Each document of the sequence. */
  documents: DocumentRange[];
}

export interface CommandIdentity {
  /** The request's opcode: OP_MSG, or OP_QUERY on `<db>.$cmd`. */
  opCode: typeof OP_CODES.msg | typeof OP_CODES.query;
  requestId: number;
  /** OP_MSG flag bits or OP_QUERY flags. */
  flags: number;
  /** Key of the command document's first element, in byte order. */
  name: string;
  /** OP_MSG `$db`, or the database of OP_QUERY's `<db>.$cmd`. */
  database: string;
  /** The command document (for OP_QUERY, inside its `$query`/`query` wrapper when it has one). */
  body: DocumentRange;
  /** The command document's top-level elements in byte order; the first is the command's own value. */
  fields: BsonElement[];
  /** OP_QUERY only: the query document as sent, when it wraps the command. */
  wrapper?: DocumentRange;
  /** OP_MSG only: document sequences (kind-1 sections). */
  sequences: readonly SequenceRange[];
  /** OP_MSG moreToCome: the server sends no reply. */
  moreToCome: boolean;
}

/**
 * Top-level keys that authenticate, end authentication or probe how to: the gateway authenticates upstream itself,
 * so none of them may reach the server, whatever the command's name. Compared in ASCII lower case.
 */
export const AUTHENTICATION_KEYS: ReadonlySet<string> = new Set([
  'saslstart',
  'saslcontinue',
  'authenticate',
  'logout',
  'speculativeauthenticate',
  'saslsupportedmechs',
  'copydbsaslstart',
  'copydbgetnonce',
  'getnonce',
]);

export const DEFAULT_MAX_NESTING_DEPTH = 200;

export interface ReadCommandOptions {
  /** Deepest nesting of documents and arrays accepted in a command document or sequence document. */
  maxNestingDepth?: number;
}

/**
 * A request whose identity is known but which the gateway will not forward: answered with an error, the connection
 * stays open. `identity` is set when the command could be named (for the log).
 */
export class CommandRefused extends Error {
  override name = 'CommandRefused';
  readonly code: number;
  readonly codeName: string;
  constructor(
    message: string,
    codeName: MongoErrorName,
    readonly identity: CommandIdentity,
  ) {
    super(message);
    this.codeName = codeName;
    this.code = MONGO_ERROR_CODES[codeName];
  }
}

const FLAGS_SIZE = 4;
const CHECKSUM_SIZE = 4;
const KNOWN_REQUIRED_MSG_BITS = OP_MSG_FLAGS.checksumPresent | OP_MSG_FLAGS.moreToCome;
/** OP_QUERY: bit 0 reserved, bits 8-31 undefined. */
const INVALID_QUERY_FLAG_BITS = ~0xfe;

/**
 * Reads the command a client request carries. Throws WireProtocolError when the message cannot be a command the
 * gateway relays (malformed, compressed, legacy opcodes, OP_QUERY outside `$cmd`: the connection is closed), and
 * CommandRefused when it is a readable command that cannot be identified unambiguously or must not be forwarded
 * (duplicate top-level keys, an authentication key anywhere at the top level, nesting too deep).
 */
export function readCommand(raw: Buffer, options: ReadCommandOptions = {}): CommandIdentity {
  const header = readWholeMessageHeader(raw, 'request');
  let identity: CommandIdentity;
  switch (header.opCode) {
    case OP_CODES.msg:
      identity = readOpMsgCommand(raw, header.requestId);
      break;
    case OP_CODES.query:
      identity = readOpQueryCommand(raw, header.requestId);
      break;
    case OP_CODES.compressed:
      // Refused before anything is inflated: the gateway never offers compression, so no honest client sends it.
      throw new WireProtocolError('compressed messages are not accepted: the Portcullis gateway does not negotiate compression');
    default:
      throw new WireProtocolError(
        `opcode ${header.opCode} is not accepted: the Portcullis gateway relays only commands (OP_MSG, and OP_QUERY on <db>.$cmd)`,
      );
  }
  checkCommand(raw, identity, options.maxNestingDepth ?? DEFAULT_MAX_NESTING_DEPTH);
  return identity;
}

function readOpMsgCommand(raw: Buffer, requestId: number): CommandIdentity {
  if (raw.length < HEADER_SIZE + FLAGS_SIZE) throw new WireProtocolError('OP_MSG: message ends before the flag bits');
  const flags = raw.readUInt32LE(HEADER_SIZE);
  const unknownRequired = flags & 0xffff & ~KNOWN_REQUIRED_MSG_BITS;
  if (unknownRequired !== 0) throw new WireProtocolError(`OP_MSG: unknown required flag bits 0x${unknownRequired.toString(16)} are set`);
  let end = raw.length;
  if (flags & OP_MSG_FLAGS.checksumPresent) {
    if (end - (HEADER_SIZE + FLAGS_SIZE) < CHECKSUM_SIZE) throw new WireProtocolError('OP_MSG: checksum flag is set but the checksum is missing');
    end -= CHECKSUM_SIZE;
    const expected = raw.readUInt32LE(end);
    if (crc32c(raw, 0, end) !== expected) throw new WireProtocolError('OP_MSG: checksum mismatch');
  }
  let body: DocumentRange | undefined;
  const sequences: SequenceRange[] = [];
  let offset = HEADER_SIZE + FLAGS_SIZE;
  while (offset < end) {
    const kind = raw[offset];
    if (kind === 0) {
      if (body) throw new WireProtocolError('OP_MSG: more than one body section (kind 0)');
      const bodyEnd = documentEnd(raw, offset + 1, end, 'OP_MSG body section');
      body = { start: offset + 1, end: bodyEnd };
      offset = bodyEnd;
    } else if (kind === 1) {
      const sequence = readSequence(raw, offset, end);
      if (sequences.some((s) => s.identifier === sequence.identifier)) {
        throw new WireProtocolError(`OP_MSG: document sequence "${printable(sequence.identifier)}" appears twice`);
      }
      sequences.push(sequence);
      offset = sequence.section.end;
    } else {
      throw new WireProtocolError(`OP_MSG: unknown section kind ${kind}`);
    }
  }
  if (!body) throw new WireProtocolError('OP_MSG: body section missing');
  const top = topLevel(raw, body, 'OP_MSG body section');
  const dbs = top.elements.filter((e) => keyEquals(raw, e, '$db'));
  if (dbs.length === 0) throw new WireProtocolError('OP_MSG: command has no $db field');
  // Duplicate keys are refused in checkCommand; several $db are malformed whatever else the command says.
  if (dbs.length > 1) throw new WireProtocolError('OP_MSG: $db appears more than once');
  const database = databaseName(raw, dbs[0]);
  return {
    opCode: OP_CODES.msg,
    requestId,
    flags,
    name: top.name,
    database,
    body,
    fields: top.elements,
    sequences,
    moreToCome: (flags & OP_MSG_FLAGS.moreToCome) !== 0,
  };
}

function readSequence(raw: Buffer, kindAt: number, end: number): SequenceRange {
  const start = kindAt + 1;
  if (end - start < 4) throw new WireProtocolError('OP_MSG: document sequence truncated before its size');
  const size = raw.readInt32LE(start);
  if (size < 5 || size > end - start) throw new WireProtocolError(`OP_MSG: document sequence size ${size} does not fit the message`);
  const sectionEnd = start + size;
  const nul = raw.indexOf(0, start + 4);
  if (nul === -1 || nul >= sectionEnd) throw new WireProtocolError('OP_MSG: document sequence identifier is not NUL-terminated');
  if (nul === start + 4) throw new WireProtocolError('OP_MSG: document sequence identifier is empty');
  const identifier = raw.toString('utf8', start + 4, nul);
  const documents: DocumentRange[] = [];
  let offset = nul + 1;
  while (offset < sectionEnd) {
    const documentStop = documentEnd(raw, offset, sectionEnd, `OP_MSG document sequence "${printable(identifier)}"`);
    documents.push({ start: offset, end: documentStop });
    offset = documentStop;
  }
  return { identifier, section: { start: kindAt, end: sectionEnd }, documents };
}

function readOpQueryCommand(raw: Buffer, requestId: number): CommandIdentity {
  const end = raw.length;
  let offset = HEADER_SIZE;
  if (end - offset < 4) throw new WireProtocolError('OP_QUERY: message ends before the flags');
  const flags = raw.readInt32LE(offset);
  if (flags & INVALID_QUERY_FLAG_BITS) throw new WireProtocolError('OP_QUERY: reserved flag bits are set');
  offset += 4;
  const nul = raw.indexOf(0, offset);
  if (nul === -1) throw new WireProtocolError('OP_QUERY: collection name is not NUL-terminated');
  const namespace = raw.toString('utf8', offset, nul);
  const dot = namespace.indexOf('.');
  if (dot <= 0 || namespace.slice(dot + 1) !== '$cmd') {
    // Legacy find on a collection: removed from MongoDB 6.0 and not a command the gateway can identify.
    throw new WireProtocolError(`OP_QUERY is accepted only for commands on <db>.$cmd, not on "${printable(namespace.slice(0, 200))}"`);
  }
  offset = nul + 1 + 8; // numberToSkip, numberToReturn
  if (offset > end) throw new WireProtocolError('OP_QUERY: message ends before numberToSkip/numberToReturn');
  const queryEnd = documentEnd(raw, offset, end, 'OP_QUERY query');
  const selectorEnd = queryEnd < end ? documentEnd(raw, queryEnd, end, 'OP_QUERY returnFieldsSelector') : end;
  if (selectorEnd !== end) throw new WireProtocolError(`OP_QUERY: ${end - selectorEnd} unexpected bytes after the documents`);
  const query: DocumentRange = { start: offset, end: queryEnd };
  const outer = topLevel(raw, query, 'OP_QUERY query');
  const base = {
    opCode: OP_CODES.query,
    requestId,
    flags,
    database: namespace.slice(0, dot),
    sequences: [] as SequenceRange[],
    moreToCome: false,
  } as const;
  const wrapped = outer.elements[0];
  const wraps = (outer.name === '$query' || outer.name === 'query') && wrapped.type === BSON_TYPES.document;
  if (!wraps) {
    const identity: CommandIdentity = { ...base, name: outer.name, body: query, fields: outer.elements };
    // A $query that is not first would be unwrapped by the server but not by this reader: two meanings, refused.
    if (outer.elements.some((e) => keyEquals(raw, e, '$query'))) {
      throw new CommandRefused('OP_QUERY: $query must be the first field of a command query', 'FailedToParse', identity);
    }
    return identity;
  }
  checkTopLevelKeys(raw, outer.elements, { ...base, name: outer.name, body: query, fields: outer.elements });
  const body: DocumentRange = { start: wrapped.valueStart, end: wrapped.valueEnd };
  const inner = topLevel(raw, body, 'OP_QUERY command');
  return { ...base, name: inner.name, body, fields: inner.elements, wrapper: query };
}

/** The top-level elements of a command document and its name (first key); a document without keys is malformed. */
function topLevel(raw: Buffer, range: DocumentRange, what: string): { name: string; elements: BsonElement[] } {
  const elements: BsonElement[] = [];
  walkDocument(raw, range.start, range.end, what, (element) => {
    elements.push(element);
  });
  if (elements.length === 0) throw new WireProtocolError(`${what}: the command document is empty`);
  const first = elements[0];
  return { name: raw.toString('utf8', first.keyStart, first.keyEnd), elements };
}

function databaseName(raw: Buffer, element: BsonElement): string {
  if (element.type !== BSON_TYPES.string) throw new WireProtocolError('OP_MSG: $db must be a string');
  const value = raw.toString('utf8', element.valueStart + 4, element.valueEnd - 1);
  if (value.length === 0) throw new WireProtocolError('OP_MSG: $db is empty');
  if (value.includes('\0')) throw new WireProtocolError('OP_MSG: $db contains a NUL character');
  return value;
}

/** Refusals that need the whole command read: duplicate or authentication keys, nesting depth. */
function checkCommand(raw: Buffer, identity: CommandIdentity, maxDepth: number): void {
  const elements = identity.fields;
  checkTopLevelKeys(raw, elements, identity);
  for (const sequence of identity.sequences) {
    const lower = sequence.identifier.toLowerCase();
    if (AUTHENTICATION_KEYS.has(lower)) throw authenticationRefused(sequence.identifier, identity);
    if (elements.some((e) => keyEquals(raw, e, sequence.identifier))) {
      throw new WireProtocolError(`OP_MSG: field "${printable(sequence.identifier)}" is in both the body and a document sequence`);
    }
  }
  // explain runs the command it wraps: that command's keys are checked like the outer ones.
  const first = elements[0];
  if (asciiLower(identity.name) === 'explain' && first.type === BSON_TYPES.document) {
    const inner: BsonElement[] = [];
    walkDocument(raw, first.valueStart, first.valueEnd, 'explained command', (element) => {
      inner.push(element);
    });
    checkTopLevelKeys(raw, inner, identity);
  }
  const documents = [identity.wrapper ?? identity.body, ...identity.sequences.flatMap((s) => s.documents)];
  for (const document of documents) {
    const depth = nestingDepth(raw, document.start, document.end, 'command', maxDepth);
    if (depth > maxDepth) {
      throw new CommandRefused(
        `the command is nested more than ${maxDepth} levels deep, the Portcullis gateway's limit; flatten the document or filter`,
        'Overflow',
        identity,
      );
    }
  }
}

function checkTopLevelKeys(raw: Buffer, elements: BsonElement[], identity: CommandIdentity): void {
  const seen = new Set<string>();
  for (const element of elements) {
    // latin1 maps each byte to one character: keys compare as the bytes the server compares.
    const key = raw.toString('latin1', element.keyStart, element.keyEnd);
    if (AUTHENTICATION_KEYS.has(asciiLower(key))) throw authenticationRefused(raw.toString('utf8', element.keyStart, element.keyEnd), identity);
    if (seen.has(key)) {
      throw new CommandRefused(
        `the command document has the field "${printable(raw.toString('utf8', element.keyStart, element.keyEnd))}" more than once; the Portcullis gateway refuses commands it cannot identify unambiguously`,
        'FailedToParse',
        identity,
      );
    }
    seen.add(key);
  }
}

export const CLIENT_AUTH_REFUSED_MESSAGE = 'authentication is handled by the Portcullis gateway; connect without credentials';

function authenticationRefused(key: string, identity: CommandIdentity): CommandRefused {
  return new CommandRefused(`${CLIENT_AUTH_REFUSED_MESSAGE} (the command carries "${printable(key)}")`, 'AuthenticationFailed', identity);
}

function keyEquals(raw: Buffer, element: BsonElement, key: string): boolean {
  if (element.keyEnd - element.keyStart !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (raw[element.keyStart + i] !== key.charCodeAt(i)) return false;
  return true;
}

/** Lower-cases A-Z only: `toLowerCase` would also fold non-ASCII letters the server treats as different bytes. */
function asciiLower(key: string): string {
  return key.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** Error messages quote client strings: control characters are shown escaped, long ones cut. */
function printable(value: string): string {
  return JSON.stringify(value.slice(0, 200)).slice(1, -1);
}
