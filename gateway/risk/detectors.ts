import type { PolicyRule } from '../../protocol/policy';
import { RISK_FLAG_IDS, type RiskFlag, type RiskFlagId, type RiskSeverity } from '../../protocol/session-log';
import { BSON_TYPES, type BsonElement, keyIs, numberValue, stringValue, walkDocument } from '../wire/bson-walk';
import { AUTHENTICATION_KEYS, type CommandIdentity, type DocumentRange } from '../wire/command-identity';

/*
 * Risk flags (issue 14): deterministic detectors run on each recorded client command, so a reviewer of a session
 * log sees at a glance what deserves a look. Like the policy (gateway/policy/command-policy.ts), every decision is
 * made on the bytes: the command is identity.name (first key in byte order, as the server reads it), keys are
 * compared byte by byte, and only the few scalars a detail needs (a collection name, a `db` field, an index name)
 * are read from their own byte ranges. Nothing is decoded into a JavaScript object.
 *
 * Decisions:
 * - Command names and operators are compared after folding ASCII A-Z only (as the policy does). The server runs
 *   command names case-sensitively and rejects `DROP` or `$WHERE`; flagging such a variant costs a reviewer a
 *   glance and can never hide a command the server would run. Non-ASCII bytes are never folded.
 * - `explain` runs nothing that writes: the command it explains (the first field's value) is not flagged as a drop,
 *   an empty-filter write or user administration. It can run server-side JavaScript (executionStats executes the
 *   query, mapReduce's functions included) and names its `$out`/`$merge` target, so `server-js` and
 *   `cross-database-write` are flagged inside an explain (the detail says `in explain`).
 * - `server-js` and `cross-database-write` look at keys (never string values) anywhere in the command document, the
 *   OP_QUERY wrapper and every document-sequence document, except for the hot commands in NO_OPERATOR_SCAN: an
 *   `insert`'s documents are stored, never evaluated (a key `$where` inside one runs nothing), and scanning them
 *   would cost the most on the most common write. Every other command, known or not, is scanned.
 * - `empty-filter-write`: delete entries with `q: {}` and `limit: 0` (deleteMany({})), update entries with `q: {}`
 *   and a true `multi` (updateMany({}, ...)), from the body array or the document sequence; bulkWrite (MongoDB 8.0)
 *   delete/update operations with `filter: {}` and a true `multi`. Only an empty document is an empty filter (not
 *   `{$expr: true}` and the like). findAndModify changes one document: not flagged.
 * - `cross-database-write`: `$out: {db}`, `$merge: {into: {db}}` and mapReduce's `out: {db}` naming a database other
 *   than the command's (compared exactly, like MongoDB database names).
 * - A command refused by the policy or the gateway is still flagged for what it tried (a refused dropDatabase is a
 *   `drop` and a `policy-refusal`): the event's outcome says it never ran.
 * - Flags come in RISK_FLAG_IDS order, each id at most once. A malformed nested document ends its detector without
 *   an error: what was found before it is returned, and the context flags always are. Nothing here throws.
 */

export interface RiskContext {
  /** The account's policy refused the command (it never reached the database). */
  refusedBy?: PolicyRule;
  /** The gateway refused the command because it carries an authentication command or field. */
  authenticationRefused?: boolean;
}

const SEVERITY: Readonly<Record<RiskFlagId, RiskSeverity>> = Object.freeze({
  drop: 'high',
  'empty-filter-write': 'high',
  'user-admin': 'high',
  'server-js': 'medium',
  'cross-database-write': 'medium',
  'auth-attempt': 'high',
  'policy-refusal': 'medium',
});

/** Client strings in a detail are cut to this many characters (a detail is one line; renderers escape it). */
const MAX_NAME = 120;

const USER_ADMIN_COMMANDS = [
  'createUser',
  'updateUser',
  'dropUser',
  'dropAllUsersFromDatabase',
  'grantRolesToUser',
  'revokeRolesFromUser',
  'createRole',
  'updateRole',
  'dropRole',
  'dropAllRolesFromDatabase',
  'grantPrivilegesToRole',
  'revokePrivilegesFromRole',
  'grantRolesToRole',
  'revokeRolesFromRole',
];

type CommandKind = 'dropDatabase' | 'drop' | 'dropIndexes' | 'delete' | 'update' | 'bulkWrite' | 'user-admin' | 'mapReduce' | 'explain';

interface KnownCommand {
  kind: CommandKind;
  name: string;
}

/** Commands a name detector looks at, keyed in ASCII lower case; `name` is the canonical spelling. */
const COMMANDS: ReadonlyMap<string, KnownCommand> = new Map<string, KnownCommand>([
  ['dropdatabase', { kind: 'dropDatabase', name: 'dropDatabase' }],
  ['drop', { kind: 'drop', name: 'drop' }],
  ['dropindexes', { kind: 'dropIndexes', name: 'dropIndexes' }],
  ['deleteindexes', { kind: 'dropIndexes', name: 'deleteIndexes' }],
  ['delete', { kind: 'delete', name: 'delete' }],
  ['update', { kind: 'update', name: 'update' }],
  ['bulkwrite', { kind: 'bulkWrite', name: 'bulkWrite' }],
  ['mapreduce', { kind: 'mapReduce', name: 'mapReduce' }],
  ['explain', { kind: 'explain', name: 'explain' }],
  ...USER_ADMIN_COMMANDS.map((name): [string, KnownCommand] => [asciiLower(name), { kind: 'user-admin', name }]),
]);

/**
 * Commands whose keys are not scanned for operators: the hot path (most traffic is these) and none of them can
 * carry a query, a pipeline or code the server evaluates.
 */
const NO_OPERATOR_SCAN: ReadonlySet<string> = new Set([
  'insert',
  'getmore',
  'killcursors',
  'hello',
  'ismaster',
  'ping',
  'buildinfo',
  'endsessions',
  'refreshsessions',
  'committransaction',
  'aborttransaction',
]);

type OperatorKind = 'server-js' | '$out' | '$merge';

/** Keys the scan looks for, as ASCII lower-case bytes. */
const OPERATORS: readonly { bytes: Buffer; kind: OperatorKind }[] = [
  { bytes: Buffer.from('$where', 'latin1'), kind: 'server-js' },
  { bytes: Buffer.from('$function', 'latin1'), kind: 'server-js' },
  { bytes: Buffer.from('$accumulator', 'latin1'), kind: 'server-js' },
  { bytes: Buffer.from('$out', 'latin1'), kind: '$out' },
  { bytes: Buffer.from('$merge', 'latin1'), kind: '$merge' },
];
const SHORTEST_OPERATOR = Math.min(...OPERATORS.map((o) => o.bytes.length));
const LONGEST_OPERATOR = Math.max(...OPERATORS.map((o) => o.bytes.length));

const ORDER: ReadonlyMap<RiskFlagId, number> = new Map(RISK_FLAG_IDS.map((id, i) => [id, i]));

/** The flags of one command, each id once. */
class Findings {
  readonly list: RiskFlag[] = [];

  has(id: RiskFlagId): boolean {
    for (const flag of this.list) if (flag.id === id) return true;
    return false;
  }

  add(id: RiskFlagId, detail: string): void {
    if (!this.has(id)) this.list.push({ id, severity: SEVERITY[id], detail });
  }

  sorted(): RiskFlag[] {
    if (this.list.length > 1) this.list.sort((a, b) => (ORDER.get(a.id) ?? 0) - (ORDER.get(b.id) ?? 0));
    return this.list;
  }
}

/** Flags of one client command, from its bytes; [] for nearly every command, at almost no cost. */
export function detectRisks(raw: Buffer, identity: CommandIdentity, context?: RiskContext): RiskFlag[] {
  const findings = new Findings();
  let lower = '';
  try {
    lower = asciiLower(identity.name);
    const command = COMMANDS.get(lower);
    if (command !== undefined) detectByName(raw, identity, command, findings);
  } catch {
    // A malformed nested document: keep what was found.
  }
  try {
    if (!NO_OPERATOR_SCAN.has(lower) && mayHoldOperator(raw)) scanOperators(raw, identity, lower === 'explain', findings);
  } catch {
    // Same.
  }
  if (context?.authenticationRefused) {
    let detail = `${cut(identity.name)} refused (the gateway authenticates to the database itself)`;
    try {
      detail = authenticationDetail(raw, identity);
    } catch {
      // Keep the plain detail.
    }
    findings.add('auth-attempt', detail);
  }
  if (context?.refusedBy !== undefined) {
    findings.add(
      'policy-refusal',
      `${cut(identity.name)} on ${cut(identity.database)} refused by the account policy (${context.refusedBy})`,
    );
  }
  return findings.sorted();
}

function detectByName(raw: Buffer, identity: CommandIdentity, command: KnownCommand, findings: Findings): void {
  const database = identity.database;
  const first = identity.fields[0];
  switch (command.kind) {
    case 'dropDatabase':
      findings.add('drop', `dropDatabase ${cut(database)}`);
      return;
    case 'drop':
      findings.add('drop', `drop ${namespace(raw, database, first)}`);
      return;
    case 'dropIndexes':
      for (const field of identity.fields) {
        if (keyIs(raw, field, 'index') && stringIs(raw, field, '*')) {
          findings.add('drop', `${command.name} of every index on ${namespace(raw, database, first)}`);
          return;
        }
      }
      return;
    case 'delete':
    case 'update': {
      const field = command.kind === 'delete' ? 'deletes' : 'updates';
      if (entries(raw, identity, field).some((entry) => emptyFilterWrite(raw, entry, command.kind as 'delete' | 'update'))) {
        const what = command.kind === 'delete' ? 'deleteMany' : 'updateMany';
        findings.add('empty-filter-write', `${what} with an empty filter on ${namespace(raw, database, first)}`);
      }
      return;
    }
    case 'bulkWrite':
      bulkWrite(raw, identity, findings);
      return;
    case 'user-admin': {
      const value = stringValue(raw, first);
      findings.add(
        'user-admin',
        value === undefined ? `${command.name} on ${cut(database)}` : `${command.name} ${cut(value)} on ${cut(database)}`,
      );
      return;
    }
    case 'mapReduce':
      mapReduce(raw, database, identity.fields, findings, '');
      return;
    case 'explain': {
      // Only what the explained command can do while being explained: run JavaScript, name another database.
      if (first.type !== BSON_TYPES.document) return;
      const inner = fieldsOf(raw, { start: first.valueStart, end: first.valueEnd });
      if (inner.length > 0 && keyFolded(raw, inner[0], 'mapreduce')) mapReduce(raw, database, inner, findings, ' (in explain)');
      return;
    }
  }
}

/** mapReduce runs JavaScript; its `out: {db}` may name another database. */
function mapReduce(raw: Buffer, database: string, fields: readonly BsonElement[], findings: Findings, suffix: string): void {
  findings.add('server-js', `mapReduce on ${namespace(raw, database, fields[0])}${suffix}`);
  for (const field of fields) {
    if (!keyIs(raw, field, 'out') || field.type !== BSON_TYPES.document) continue;
    let target: string | undefined;
    let collection: string | undefined;
    walkDocument(raw, field.valueStart, field.valueEnd, 'mapReduce out', (element) => {
      if (keyIs(raw, element, 'db')) target = stringValue(raw, element) ?? target;
      else if (keyIs(raw, element, 'replace') || keyIs(raw, element, 'merge') || keyIs(raw, element, 'reduce')) {
        collection = stringValue(raw, element) ?? collection;
      }
    });
    if (target !== undefined && target !== database) {
      findings.add('cross-database-write', `mapReduce out to ${targetName(target, collection)} from ${cut(database)}${suffix}`);
    }
  }
}

/** The documents of a write command's `deletes`/`updates`: the body array or the document sequence of that name. */
function entries(raw: Buffer, identity: CommandIdentity, field: string): DocumentRange[] {
  const out: DocumentRange[] = [];
  for (const element of identity.fields) {
    if (!keyIs(raw, element, field) || element.type !== BSON_TYPES.array) continue;
    walkDocument(raw, element.valueStart, element.valueEnd, field, (item) => {
      if (item.type === BSON_TYPES.document) out.push({ start: item.valueStart, end: item.valueEnd });
    });
  }
  for (const sequence of identity.sequences) if (sequence.identifier === field) out.push(...sequence.documents);
  return out;
}

/**
 * A delete entry `{q: {}, limit: 0}` or an update entry `{q: {}, multi: true}`. Duplicate fields (the server
 * refuses them) count if any of them matches: when in doubt, flag.
 */
function emptyFilterWrite(raw: Buffer, entry: DocumentRange, kind: 'delete' | 'update'): boolean {
  let emptyFilter = false;
  let many = false;
  walkDocument(raw, entry.start, entry.end, `${kind} entry`, (element) => {
    if (keyIs(raw, element, 'q')) emptyFilter ||= isEmptyDocument(element);
    else if (kind === 'delete' && keyIs(raw, element, 'limit')) many ||= numberValue(raw, element) === 0;
    else if (kind === 'update' && keyIs(raw, element, 'multi')) many ||= truthy(raw, element);
  });
  return emptyFilter && many;
}

/**
 * bulkWrite (MongoDB 8.0, on admin): `ops` entries `{delete: <nsInfo index>, filter: {}, multi: true}` or
 * `{update: <index>, filter: {}, multi: true, ...}`; the namespace is `nsInfo[index].ns`.
 */
function bulkWrite(raw: Buffer, identity: CommandIdentity, findings: Findings): void {
  for (const op of entries(raw, identity, 'ops')) {
    let kind: 'deleteMany' | 'updateMany' | undefined;
    let index: number | undefined;
    let emptyFilter = false;
    let many = false;
    let position = 0;
    walkDocument(raw, op.start, op.end, 'bulkWrite op', (element) => {
      if (position++ === 0) {
        if (keyIs(raw, element, 'delete')) kind = 'deleteMany';
        else if (keyIs(raw, element, 'update')) kind = 'updateMany';
        else return false;
        index = numberValue(raw, element);
      } else if (keyIs(raw, element, 'filter')) emptyFilter ||= isEmptyDocument(element);
      else if (keyIs(raw, element, 'multi')) many ||= truthy(raw, element);
      return true;
    });
    if (kind === undefined || !emptyFilter || !many) continue;
    const ns = index === undefined ? undefined : bulkWriteNamespace(raw, identity, index);
    findings.add('empty-filter-write', `${kind} with an empty filter on ${ns === undefined ? 'a bulkWrite namespace' : cut(ns)}`);
    return;
  }
}

function bulkWriteNamespace(raw: Buffer, identity: CommandIdentity, index: number): string | undefined {
  const nsInfo = entries(raw, identity, 'nsInfo');
  if (!Number.isInteger(index) || index < 0 || index >= nsInfo.length) return undefined;
  let ns: string | undefined;
  walkDocument(raw, nsInfo[index].start, nsInfo[index].end, 'bulkWrite nsInfo entry', (element) => {
    if (keyIs(raw, element, 'ns')) ns = stringValue(raw, element, MAX_NAME * 4);
    return ns === undefined;
  });
  return ns;
}

/**
 * False when no byte sequence in the message could start an operator the scan looks for (`$wh`, `$fu`, `$ac`, `$ou`,
 * `$me`, A-Z folded): then no key can be one, and the walk is skipped. A native search from `$` to `$` over the raw
 * bytes costs far less than walking every element; a string value or `$merge`-like key only means the walk is done.
 */
function mayHoldOperator(raw: Buffer): boolean {
  const last = raw.length - SHORTEST_OPERATOR;
  let i = raw.indexOf(0x24);
  while (i !== -1 && i <= last) {
    // `| 0x20` folds A-Z onto a-z; of all bytes, only the two letters of each pair map to it.
    const a = raw[i + 1] | 0x20;
    const b = raw[i + 2] | 0x20;
    if (
      (a === 0x77 && b === 0x68) || // $wh
      (a === 0x66 && b === 0x75) || // $fu
      (a === 0x61 && b === 0x63) || // $ac
      (a === 0x6f && b === 0x75) || // $ou
      (a === 0x6d && b === 0x65) // $me
    ) {
      return true;
    }
    i = raw.indexOf(0x24, i + 1);
  }
  return false;
}

/**
 * One walk, without recursion, over every key of the command document (the OP_QUERY wrapper included) and of every
 * document-sequence document, for server-side JavaScript operators and `$out`/`$merge` into another database.
 */
function scanOperators(raw: Buffer, identity: CommandIdentity, explained: boolean, findings: Findings): void {
  const suffix = explained ? ' (in explain)' : '';
  const database = identity.database;
  for (const sequence of identity.sequences) {
    // An identifier is a top-level field name of the command.
    const identifier = Buffer.from(sequence.identifier, 'utf8');
    const operator = operatorAt(identifier, 0, identifier.length);
    if (operator?.kind === 'server-js') findings.add('server-js', `${sequence.identifier} in ${cut(identity.name)}`);
  }
  const starts: number[] = [];
  const ends: number[] = [];
  const root = identity.wrapper ?? identity.body;
  starts.push(root.start);
  ends.push(root.end);
  for (const sequence of identity.sequences) {
    for (const document of sequence.documents) {
      starts.push(document.start);
      ends.push(document.end);
    }
  }
  let done = false;
  const visit = (element: BsonElement) => {
    const operator = operatorAt(raw, element.keyStart, element.keyEnd);
    if (operator !== undefined) {
      if (operator.kind === 'server-js') {
        findings.add('server-js', `${raw.toString('utf8', element.keyStart, element.keyEnd)} in ${cut(identity.name)}`);
      } else if (element.type === BSON_TYPES.document && !findings.has('cross-database-write')) {
        const target = operator.kind === '$out' ? namespaceDocument(raw, element) : mergeTarget(raw, element);
        if (target?.db !== undefined && target.db !== database) {
          const stage = raw.toString('utf8', element.keyStart, element.keyEnd);
          findings.add('cross-database-write', `${stage} to ${targetName(target.db, target.coll)} from ${cut(database)}${suffix}`);
        }
      }
      if (findings.has('server-js') && findings.has('cross-database-write')) {
        done = true;
        return false;
      }
    }
    if (element.type === BSON_TYPES.document || element.type === BSON_TYPES.array) {
      starts.push(element.valueStart);
      ends.push(element.valueEnd);
    }
    return true;
  };
  while (starts.length > 0 && !done) walkDocument(raw, starts.pop() as number, ends.pop() as number, 'command', visit);
}

/** `$merge: {into: {db, coll}}` (`into: "coll"` is the command's own database). */
function mergeTarget(raw: Buffer, stage: BsonElement): { db?: string; coll?: string } | undefined {
  let target: { db?: string; coll?: string } | undefined;
  walkDocument(raw, stage.valueStart, stage.valueEnd, '$merge', (element) => {
    if (keyIs(raw, element, 'into') && element.type === BSON_TYPES.document) target = namespaceDocument(raw, element);
    return target?.db === undefined;
  });
  return target;
}

/** The string `db` and `coll` fields of a `{db, coll}` document (the first `db` that is a string). */
function namespaceDocument(raw: Buffer, element: BsonElement): { db?: string; coll?: string } {
  const out: { db?: string; coll?: string } = {};
  walkDocument(raw, element.valueStart, element.valueEnd, 'namespace', (field) => {
    if (out.db === undefined && keyIs(raw, field, 'db')) out.db = stringValue(raw, field);
    else if (out.coll === undefined && keyIs(raw, field, 'coll')) out.coll = stringValue(raw, field, MAX_NAME * 4);
  });
  return out;
}

/** Which operator the key in [start, end) is, with A-Z folded; undefined for nearly every key, without allocating. */
function operatorAt(buf: Buffer, start: number, end: number): (typeof OPERATORS)[number] | undefined {
  const length = end - start;
  if (length < SHORTEST_OPERATOR || length > LONGEST_OPERATOR || buf[start] !== 0x24) return undefined;
  for (const operator of OPERATORS) {
    if (operator.bytes.length === length && foldedEquals(buf, start, operator.bytes)) return operator;
  }
  return undefined;
}

/** The bytes at `start` equal `lower` (ASCII lower case) once A-Z are folded. */
function foldedEquals(buf: Buffer, start: number, lower: Buffer): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = buf[start + i];
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower[i]) return false;
  }
  return true;
}

function keyFolded(buf: Buffer, element: BsonElement, lower: string): boolean {
  return element.keyEnd - element.keyStart === lower.length && foldedEquals(buf, element.keyStart, Buffer.from(lower, 'latin1'));
}

/** A string element whose value is exactly `value` (ASCII), compared on the bytes. */
function stringIs(buf: Buffer, element: BsonElement, value: string): boolean {
  if (element.type !== BSON_TYPES.string || element.valueEnd - element.valueStart - 5 !== value.length) return false;
  for (let i = 0; i < value.length; i++) if (buf[element.valueStart + 4 + i] !== value.charCodeAt(i)) return false;
  return true;
}

function isEmptyDocument(element: BsonElement): boolean {
  return element.type === BSON_TYPES.document && element.valueEnd - element.valueStart === 5;
}

/** A true boolean or a non-zero number (the server reads `multi: 1` as true). */
function truthy(buf: Buffer, element: BsonElement): boolean {
  const value = numberValue(buf, element);
  return value !== undefined && value !== 0;
}

function fieldsOf(raw: Buffer, range: DocumentRange): BsonElement[] {
  const fields: BsonElement[] = [];
  walkDocument(raw, range.start, range.end, 'explained command', (element) => {
    fields.push(element);
  });
  return fields;
}

/** `db.coll` for a command whose value is its collection; the database alone when the value is not a string. */
function namespace(raw: Buffer, database: string, first: BsonElement | undefined): string {
  const collection = first === undefined ? undefined : stringValue(raw, first, MAX_NAME * 4);
  return collection === undefined ? cut(database) : `${cut(database)}.${cut(collection)}`;
}

function targetName(database: string, collection: string | undefined): string {
  return collection === undefined ? cut(database) : `${cut(database)}.${cut(collection)}`;
}

/** `saslStart refused ...`, or `hello with speculativeAuthenticate refused ...`: the key that made the gateway refuse. */
function authenticationDetail(raw: Buffer, identity: CommandIdentity): string {
  const reason = 'refused (the gateway authenticates to the database itself)';
  const name = cut(identity.name);
  if (AUTHENTICATION_KEYS.has(asciiLower(identity.name))) return `${name} ${reason}`;
  let key: string | undefined;
  for (const field of identity.fields) {
    const candidate = raw.toString('utf8', field.keyStart, field.keyEnd);
    if (AUTHENTICATION_KEYS.has(asciiLower(candidate))) {
      key = candidate;
      break;
    }
  }
  if (key === undefined) key = identity.sequences.find((s) => AUTHENTICATION_KEYS.has(asciiLower(s.identifier)))?.identifier;
  return key === undefined ? `${name} ${reason}` : `${name} with ${cut(key)} ${reason}`;
}

/** Lower-cases A-Z only: `toLowerCase` would also fold non-ASCII letters the server treats as different bytes. */
function asciiLower(key: string): string {
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) > 0x7f) return key.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
  }
  // Pure ASCII (every command name a driver sends): the native call folds exactly A-Z.
  return key.toLowerCase();
}

function cut(value: string): string {
  return value.length > MAX_NAME ? `${value.slice(0, MAX_NAME)}…` : value;
}
