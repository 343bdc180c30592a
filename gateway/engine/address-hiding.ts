import { isIP } from 'node:net';
import { buildDocument, elementBytes, encodeElement, withValue } from '../wire/bson-build';
import { BSON_TYPES, type BsonElement, keyOf, walkDocument } from '../wire/bson-walk';
import type { CommandIdentity } from '../wire/command-identity';
import { HEADER_SIZE, OP_CODES, OP_MSG_FLAGS } from '../wire/constants';
import { OP_REPLY_DOCUMENTS_OFFSET } from '../wire/op-reply';

/*
 * What a client may learn about the deployment behind a resource: nothing of its hosts, addresses or ports. The
 * handshake rewrite removes them from hello; this module covers every other reply that names them: diagnostic
 * commands (serverStatus, hostInfo, getLog, explain, currentOp, replSetGetStatus, ...) and every error. Each
 * internal address (and replica-set name) is replaced by one placeholder that names the resource:
 * `portcullis:<resource name>`.
 */

/** Commands whose replies describe the server, its hosts or its peers: their replies are always rewritten. */
const DIAGNOSTIC_COMMANDS: ReadonlySet<string> = new Set([
  'serverStatus',
  'hostInfo',
  'getLog',
  'explain',
  'replSetGetStatus',
  'replSetGetConfig',
  'replSetGetRBID',
  'getCmdLineOpts',
  'currentOp',
  'whatsmyuri',
  'connPoolStats',
  'shardConnPoolStats',
  'listShards',
  'getShardMap',
  'getShardVersion',
  'shardingState',
  'isdbgrid',
  'netstat',
  'top',
  'lockInfo',
  'getDiagnosticData',
  'getDefaultRWConcern',
  'balancerStatus',
  'collStats',
  'dbStats',
  'dataSize',
  'validate',
  'getParameter',
  'buildInfo',
  'buildinfo',
  'features',
  'connPoolSync',
]);

/** Aggregation stages whose output names hosts (a pipeline carrying one has its replies, and cursor, rewritten). */
const DIAGNOSTIC_STAGES = [
  '$currentOp',
  '$collStats',
  '$indexStats',
  '$planCacheStats',
  '$shardedDataDistribution',
  '$listSessions',
  '$listLocalSessions',
];

/** Fields whose string value is a host, an address or a connection string, wherever they appear in a rewritten reply. */
const HOST_FIELDS: ReadonlySet<string> = new Set([
  'host',
  'hostname',
  'me',
  'primary',
  'you',
  'client',
  'client_s',
  'syncSourceHost',
  'syncingTo',
  'configsvrConnectionString',
  'setName',
  'set',
  'connectionString',
  'remote',
  'local',
  'bindIp',
  'bind_ip',
  'addr',
]);
/** Fields whose value is a list of hosts. */
const HOST_LIST_FIELDS: ReadonlySet<string> = new Set(['hosts', 'passives', 'arbiters', 'members']);
/** Numeric fields that give a port away. */
const PORT_FIELDS: ReadonlySet<string> = new Set(['port', 'syncSourceId']);
/** Command-line flags whose next argument is a host or port (getCmdLineOpts argv). */
const ADDRESS_FLAGS: ReadonlySet<string> = new Set([
  '--port',
  '--bind_ip',
  '--bind-ip',
  '--replSet',
  '--configdb',
  '--listen-addr',
  '--listen-tls',
]);

/** Deeper than this, a reply's documents are copied as they are: servers do not nest diagnostics this deep. */
const MAX_DEPTH = 100;

const IPV4 = String.raw`(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?!\w|\.\d)`;
const IPV6_BRACKETED = String.raw`\[[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\](?::\d{1,5})?`;
// Bare IPv6 (at least two colons, hex groups): `::1`, `fe80::1`, `2001:db8::5`.
const IPV6_BARE = String.raw`(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])`;
// A dotted host name with a port: `db-0.internal:27017`.
const HOST_PORT = String.raw`(?<![\w.-])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+:\d{1,5}(?![\w])`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Hides the addresses of one resource's deployment in what is sent to a client. Knows the names it was told (the
 * connection string's hosts, what the servers call themselves) and learns the ones it sees in host fields; IP
 * literals and `name:port` pairs are hidden whoever they belong to.
 */
export class AddressHider {
  readonly placeholder: string;
  private readonly names = new Set<string>();
  private pattern: RegExp | undefined;

  constructor(resourceName: string | undefined, names: Iterable<string> = []) {
    this.placeholder = `portcullis:${resourceName && resourceName.length > 0 ? resourceName : 'database'}`;
    for (const name of names) this.learn(name);
  }

  /** Adds a host name (or host:port, or address) to hide from now on. */
  learn(name: string): void {
    const host = hostOf(name);
    if (host.length < 2 || host === this.placeholder || this.names.has(host)) return;
    this.names.add(host);
    this.pattern = undefined;
  }

  /** `text` with every known name (with its port) and every address replaced by the placeholder. */
  text(text: string): string {
    this.pattern ??= this.buildPattern();
    return text.replace(this.pattern, this.placeholder);
  }

  private buildPattern(): RegExp {
    const known = [...this.names]
      .filter((name) => isIP(name) === 0)
      .sort((a, b) => b.length - a.length)
      .map((name) => String.raw`(?<![\w.-])${escapeRegExp(name)}(?::\d{1,5})?(?![\w-]|\.\w)`);
    return new RegExp([...known, IPV6_BRACKETED, IPV4, HOST_PORT, IPV6_BARE].join('|'), 'gi');
  }

  /**
   * The reply message with its documents rewritten (OP_MSG body and sequences, OP_REPLY documents). The header
   * and flags are kept; an OP_MSG checksum is dropped, since it would no longer match.
   */
  reply(raw: Buffer): Buffer {
    const opCode = raw.readInt32LE(12);
    const parts: Buffer[] = [];
    let offset: number;
    let end = raw.length;
    if (opCode === OP_CODES.msg) {
      let flags = raw.readUInt32LE(HEADER_SIZE);
      if (flags & OP_MSG_FLAGS.checksumPresent) {
        end -= 4;
        flags &= ~OP_MSG_FLAGS.checksumPresent;
      }
      const head = Buffer.from(raw.subarray(0, HEADER_SIZE + 4));
      head.writeUInt32LE(flags >>> 0, HEADER_SIZE);
      parts.push(head);
      offset = HEADER_SIZE + 4;
      while (offset < end) {
        const kind = raw[offset];
        if (kind === 0) {
          const size = raw.readInt32LE(offset + 1);
          parts.push(Buffer.from([0]), this.document(raw, offset + 1, offset + 1 + size, 1));
          offset += 1 + size;
        } else {
          const size = raw.readInt32LE(offset + 1);
          const sectionEnd = offset + 1 + size;
          const nul = raw.indexOf(0, offset + 5);
          const documents: Buffer[] = [];
          for (let at = nul + 1; at < sectionEnd; at += raw.readInt32LE(at)) {
            documents.push(this.document(raw, at, at + raw.readInt32LE(at), 1));
          }
          const identifier = raw.subarray(offset + 5, nul + 1);
          const sectionSize = 4 + identifier.length + documents.reduce((n, d) => n + d.length, 0);
          const sectionHead = Buffer.alloc(5);
          sectionHead[0] = 1;
          sectionHead.writeInt32LE(sectionSize, 1);
          parts.push(sectionHead, identifier, ...documents);
          offset = sectionEnd;
        }
      }
    } else if (opCode === OP_CODES.reply) {
      parts.push(raw.subarray(0, OP_REPLY_DOCUMENTS_OFFSET));
      for (offset = OP_REPLY_DOCUMENTS_OFFSET; offset < end; offset += raw.readInt32LE(offset)) {
        parts.push(this.document(raw, offset, offset + raw.readInt32LE(offset), 1));
      }
    } else {
      return raw;
    }
    const out = Buffer.concat(parts);
    out.writeInt32LE(out.length, 0);
    return out;
  }

  private document(raw: Buffer, start: number, end: number, depth: number): Buffer {
    if (depth > MAX_DEPTH) return raw.subarray(start, end);
    const elements: Buffer[] = [];
    let hideNext = false;
    walkDocument(raw, start, end, 'reply', (element) => {
      const key = keyOf(raw, element);
      const rewritten = this.element(raw, element, key, depth, hideNext);
      // Keys name hosts too: dbStats and collStats on a sharded cluster key their `raw` results by shard address.
      const hiddenKey = this.text(key);
      elements.push(hiddenKey === key ? rewritten : withKey(rewritten, element, hiddenKey));
      hideNext = element.type === BSON_TYPES.string && isAddressFlag(raw, element);
    });
    return buildDocument(elements);
  }

  private element(raw: Buffer, element: BsonElement, key: string, depth: number, hide: boolean): Buffer {
    switch (element.type) {
      case BSON_TYPES.string: {
        const value = raw.toString('utf8', element.valueStart + 4, element.valueEnd - 1);
        if (hide || HOST_FIELDS.has(key)) {
          if (value.length === 0) return elementBytes(raw, element);
          for (const name of value.split(',')) this.learn(name.trim().replace(/^[^/]*\//, ''));
          return encodeElement(key, this.placeholder);
        }
        const hidden = this.text(value);
        return hidden === value ? elementBytes(raw, element) : encodeElement(key, hidden);
      }
      case BSON_TYPES.document:
      case BSON_TYPES.array: {
        const hideAll = element.type === BSON_TYPES.array && HOST_LIST_FIELDS.has(key);
        if (hideAll) {
          // Learn the names first, so that other fields naming the same hosts are hidden too.
          walkDocument(raw, element.valueStart, element.valueEnd, 'reply', (item) => {
            if (item.type === BSON_TYPES.string) this.learn(raw.toString('utf8', item.valueStart + 4, item.valueEnd - 1));
          });
        }
        return withValue(raw, element, this.document(raw, element.valueStart, element.valueEnd, depth + 1));
      }
      case BSON_TYPES.int32:
      case BSON_TYPES.int64:
      case BSON_TYPES.double:
        return PORT_FIELDS.has(key) || hide
          ? withValue(raw, element, Buffer.alloc(element.valueEnd - element.valueStart))
          : elementBytes(raw, element);
      default:
        return elementBytes(raw, element);
    }
  }
}

/** `rewritten` (an element whose key is `element`'s) under another key. */
function withKey(rewritten: Buffer, element: BsonElement, key: string): Buffer {
  const keyLength = element.keyEnd - element.keyStart;
  return Buffer.concat([
    rewritten.subarray(0, 1),
    Buffer.from(`${key.replaceAll('\0', '')}\0`, 'utf8'),
    rewritten.subarray(1 + keyLength + 1),
  ]);
}

function isAddressFlag(raw: Buffer, element: BsonElement): boolean {
  const value = raw.toString('utf8', element.valueStart + 4, element.valueEnd - 1);
  return ADDRESS_FLAGS.has(value);
}

/** `host` of `host:port`, `[v6]:port`, `mongodb://host`, `user@host`. */
function hostOf(name: string): string {
  let host = name
    .trim()
    .replace(/^[a-z+]+:\/\//i, '')
    .replace(/^[^@/]*@/, '')
    .replace(/\/.*$/, '');
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']') === -1 ? undefined : host.indexOf(']'));
  if (isIP(host) === 6) return host;
  const colon = host.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(host.slice(colon + 1))) host = host.slice(0, colon);
  return host;
}

/** Whether replies to this command must be rewritten whole (it describes the server) rather than only on error. */
export function isDiagnosticCommand(raw: Buffer, identity: CommandIdentity): boolean {
  if (DIAGNOSTIC_COMMANDS.has(identity.name)) return true;
  // explain: true on find/aggregate/count/...
  if (identity.fields.some((e) => e.keyEnd - e.keyStart === 7 && raw.toString('latin1', e.keyStart, e.keyEnd) === 'explain')) return true;
  if (identity.name !== 'aggregate') return false;
  // Diagnostic stages anywhere in the pipeline (a stage name inside a string value matches too: rewriting that
  // reply costs a little time, never a leak).
  const body = raw.subarray(identity.body.start, identity.body.end);
  return DIAGNOSTIC_STAGES.some((stage) => body.includes(stage));
}

/**
 * Whether a reply that is not a diagnostic must still be rewritten: every error (ok is not 1) and every write
 * error or write-concern error, whose messages may name hosts. Reads only the top level of the first document.
 */
export function replyNeedsHiding(raw: Buffer): boolean {
  const opCode = raw.readInt32LE(12);
  let start: number;
  if (opCode === OP_CODES.msg) {
    if (raw[HEADER_SIZE + 4] !== 0) return true; // a body after sequences: unusual, check it all
    start = HEADER_SIZE + 5;
  } else if (opCode === OP_CODES.reply) {
    if (raw.length <= OP_REPLY_DOCUMENTS_OFFSET) return false;
    if (raw.readInt32LE(HEADER_SIZE) & 2) return true; // QueryFailure
    start = OP_REPLY_DOCUMENTS_OFFSET;
  } else {
    return false;
  }
  let needs = false;
  try {
    walkDocument(raw, start, raw.length, 'reply', (element) => {
      const length = element.keyEnd - element.keyStart;
      if (length === 2 && raw[element.keyStart] === 0x6f && raw[element.keyStart + 1] === 0x6b) {
        needs = !isOne(raw, element);
      } else if (length === 11 || length === 17 || length === 6) {
        const key = raw.toString('latin1', element.keyStart, element.keyEnd);
        if (key === 'writeErrors' || key === 'writeConcernError' || key === 'errmsg') needs = true;
      }
      return !needs;
    });
  } catch {
    return true; // unreadable here: the full rewrite reports it
  }
  return needs;
}

function isOne(raw: Buffer, element: BsonElement): boolean {
  switch (element.type) {
    case BSON_TYPES.double:
      return raw.readDoubleLE(element.valueStart) === 1;
    case BSON_TYPES.int32:
      return raw.readInt32LE(element.valueStart) === 1;
    case BSON_TYPES.int64:
      return raw.readBigInt64LE(element.valueStart) === 1n;
    case BSON_TYPES.boolean:
      return raw[element.valueStart] === 1;
    default:
      return false;
  }
}
