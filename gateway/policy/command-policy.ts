import { type AccountPolicy, type PolicyRule, READ_ONLY_COMMANDS } from '../../protocol/policy';
import { BSON_TYPES, type BsonElement, keyIs, stringValue, walkDocument } from '../wire/bson-walk';
import type { CommandIdentity, DocumentRange } from '../wire/command-identity';
import { compileDatabasePatterns, type DatabaseMatcher } from './database-patterns';

/*
 * An account's policy (protocol/policy.ts), enforced on each client command from its bytes: the command's name is
 * identity.name (first key in byte order, as the server reads it), keys are compared byte by byte after folding
 * A-Z only, and the few strings the rules need (`$out` targets, renameCollection namespaces) are read from their
 * own byte ranges. Nothing is decoded into a JavaScript object to decide.
 */

export interface PolicyRefusal {
  rule: PolicyRule;
  message: string;
}

const READ_ONLY: ReadonlySet<string> = new Set(READ_ONLY_COMMANDS.map(asciiLower));

/**
 * Allowed on any database whatever the database list: they touch no database and every client sends them (drivers
 * send hello on admin, but mongosh's `db.hello()` and `db.runCommand({ping: 1})` use the current database).
 */
const ANY_DATABASE_COMMANDS: ReadonlySet<string> = new Set(['hello', 'ismaster', 'ping']);

/**
 * Allowed on `admin` whatever the database list: server-level commands that read no database's data. mongosh sends
 * buildInfo, atlasVersion, getParameter and `getLog: "startupWarnings"` at startup; listDatabases' reply is filtered
 * to the allowed databases (list-databases-filter.ts); sessions and transaction ends are admin-only commands whose
 * writes were each checked on their own database. getLog is allowed only for "startupWarnings": the global log
 * quotes slow queries of every database. Not here, on purpose: serverStatus, currentOp and top (they name other
 * databases' collections and quote their queries), listCommands (nobody needs it at connect time).
 */
const ADMIN_COMMANDS: ReadonlySet<string> = new Set(
  [
    'buildInfo',
    'listDatabases',
    'connectionStatus',
    'endSessions',
    'startSession',
    'refreshSessions',
    'commitTransaction',
    'abortTransaction',
    'whatsmyuri',
    'hostInfo',
    'getCmdLineOpts',
    'getParameter',
    'atlasVersion',
  ].map(asciiLower),
);

/** A field naming a namespace (`db.coll`) or a database; `null` is the command's own value (its first field). */
type NameField = readonly [field: string | null, kind: 'namespace' | 'database'];

const OWN_NAMESPACE: readonly NameField[] = [[null, 'namespace']];

/**
 * Commands, usually run on `admin`, whose fields name the namespaces or databases they act on: each must be an
 * allowed database. Keyed in ASCII lower case.
 */
const NAMESPACE_FIELDS: ReadonlyMap<string, readonly NameField[]> = new Map([
  ['renamecollection', [[null, 'namespace'] as const, ['to', 'namespace'] as const]],
  ['copydb', [['fromdb', 'database'] as const, ['todb', 'database'] as const]],
  ['enablesharding', [[null, 'database'] as const]],
  ['moveprimary', [[null, 'database'] as const]],
  ...[
    'cloneCollection',
    'shardCollection',
    'reshardCollection',
    'refineCollectionShardKey',
    'unshardCollection',
    'moveCollection',
    'analyzeShardKey',
    'configureQueryAnalyzer',
    'balancerCollectionStatus',
    'configureCollectionBalancing',
    'moveChunk',
    'moveRange',
    'split',
    'mergeChunks',
    'clearJumboFlag',
    'checkShardingIndex',
    'cleanupOrphaned',
    'getShardVersion',
  ].map((name) => [asciiLower(name), OWN_NAMESPACE] as const),
]);

/** Commands whose documents can hold a pipeline (or mapReduce's `out`) naming another database. */
const PIPELINE_COMMANDS: ReadonlySet<string> = new Set(['aggregate', 'create', 'collmod', 'mapreduce']);

/** Stages that name another database: `$out: {db}`, `$merge: {into: {db}}`, `$lookup`/`$graphLookup: {from: {db}}`, `$unionWith`. */
const TARGET_STAGES: ReadonlySet<string> = new Set(['$out', '$merge', '$lookup', '$graphlookup', '$unionwith']);
/** Fields of such a stage that hold a `{db, coll}` namespace document. */
const TARGET_FIELDS = ['into', 'from', 'coll'];

const WRITE_STAGES: ReadonlySet<string> = new Set(['$out', '$merge']);

/** explain of explain is refused by the server; more levels than this are refused by a read-only policy. */
const MAX_EXPLAIN_LEVELS = 4;

/** Database patterns shown in a refusal; the rest are counted. */
const LISTED_DATABASES = 10;

/** One command: the outer one, or the one an `explain` explains. */
interface CommandLevel {
  name: string;
  lower: string;
  fields: readonly BsonElement[];
}

interface ScanOptions {
  operators: boolean;
  writeStages: boolean;
  targets: boolean;
}

type ScanFinding =
  | { kind: 'operator'; key: string }
  | { kind: 'write-stage'; key: string }
  | { kind: 'target'; database: string; via: string };

export class CommandPolicy {
  /** Whether listDatabases replies must be filtered (a database list is set). */
  readonly filtersDatabases: boolean;
  private readonly readOnly: boolean;
  private readonly matcher: DatabaseMatcher | undefined;
  private readonly deniedCommands: ReadonlySet<string>;
  private readonly deniedOperators: ReadonlySet<string>;
  /** Nothing to check: the default policy. */
  private readonly inactive: boolean;
  /** Keys longer than this cannot be a denied operator or a stage: not decoded. */
  private readonly longestKey: number;
  private readonly account: string;
  private readonly databaseList: string;

  constructor(policy: AccountPolicy, accountName: string) {
    this.readOnly = policy.mode === 'read-only';
    this.matcher = policy.databases.length > 0 ? compileDatabasePatterns(policy.databases) : undefined;
    this.filtersDatabases = this.matcher !== undefined;
    const denied = policy.denied.map(asciiLower);
    this.deniedCommands = new Set(denied.filter((d) => !d.startsWith('$')));
    this.deniedOperators = new Set(denied.filter((d) => d.startsWith('$')));
    this.inactive = !this.readOnly && this.matcher === undefined && denied.length === 0;
    this.longestKey = Math.max('$graphlookup'.length, ...[...this.deniedOperators].map((d) => d.length));
    this.account = `the account "${printable(accountName)}"`;
    const shown = policy.databases.slice(0, LISTED_DATABASES).map(printable).join(', ');
    const more = policy.databases.length - LISTED_DATABASES;
    this.databaseList = more > 0 ? `${shown} and ${more} more` : shown;
  }

  allowsDatabase(name: string): boolean {
    return this.matcher === undefined || this.matcher(name);
  }

  /**
   * undefined when allowed. Called for every client command after readCommand succeeded. Nested documents are
   * walked only when a rule needs them; one that is malformed throws a WireProtocolError, as readCommand does.
   */
  check(raw: Buffer, identity: CommandIdentity): PolicyRefusal | undefined {
    if (this.inactive) return undefined;
    const { levels, complete } = commandLevels(raw, identity);

    for (const level of levels) {
      if (this.deniedCommands.has(level.lower)) {
        return { rule: 'denied', message: `${this.account} may not run ${printable(level.name)} (Portcullis policy: denied commands)` };
      }
    }

    if (this.readOnly) {
      for (let i = 0; i < levels.length; i++) {
        if (!READ_ONLY.has(levels[i].lower)) return this.readOnlyRefusal(describe(levels.slice(0, i + 1)));
      }
      if (!complete) return this.readOnlyRefusal(`${describe(levels)} without a command to explain`);
    }

    const matcher = this.matcher;
    if (matcher !== undefined) {
      if (!this.exempt(raw, identity) && !matcher(identity.database)) return this.databaseRefusal(identity.database);
      for (const [i, level] of levels.entries()) {
        const refusal = this.checkNamespaces(raw, level, matcher) ?? (i === 0 ? this.checkBulkWrite(raw, identity, matcher) : undefined);
        if (refusal) return refusal;
      }
    }

    const options: ScanOptions = {
      operators: this.deniedOperators.size > 0,
      writeStages: this.readOnly && levels.some((l) => l.lower === 'aggregate'),
      targets: matcher !== undefined && levels.some((l) => PIPELINE_COMMANDS.has(l.lower)),
    };
    if (!options.operators && !options.writeStages && !options.targets) return undefined;
    const finding = this.scan(raw, identity, options);
    if (finding === undefined) return undefined;
    switch (finding.kind) {
      case 'operator':
        return { rule: 'denied', message: `${this.account} may not use ${printable(finding.key)} (Portcullis policy: denied operators)` };
      case 'write-stage':
        return this.readOnlyRefusal(`${describe(levels)} with ${printable(finding.key)}`);
      case 'target':
        return this.databaseRefusal(finding.database, finding.via);
    }
  }

  private readOnlyRefusal(what: string): PolicyRefusal {
    return {
      rule: 'read-only',
      message: `${this.account} is read-only (Portcullis policy): ${what} is not allowed; ask an admin for an account that may write`,
    };
  }

  private databaseRefusal(database: string, via?: string): PolicyRefusal {
    const where = via === undefined ? '' : ` (named by ${via})`;
    return {
      rule: 'databases',
      message: `${this.account} may use only the databases ${this.databaseList} (Portcullis policy): "${printable(database)}" is not one of them${where}`,
    };
  }

  /** Commands not checked against their `$db`: see ANY_DATABASE_COMMANDS, ADMIN_COMMANDS, NAMESPACE_FIELDS. */
  private exempt(raw: Buffer, identity: CommandIdentity): boolean {
    const name = asciiLower(identity.name);
    if (ANY_DATABASE_COMMANDS.has(name)) return true;
    if (identity.database !== 'admin') return false;
    // Commands that name their namespaces (renameCollection, shardCollection, bulkWrite, ...) run on admin: the
    // databases they name are checked instead (checkNamespaces, checkBulkWrite).
    if (ADMIN_COMMANDS.has(name) || NAMESPACE_FIELDS.has(name) || name === 'bulkwrite') return true;
    return name === 'getlog' && stringValue(raw, identity.fields[0]) === 'startupWarnings';
  }

  private checkNamespaces(raw: Buffer, level: CommandLevel, matcher: DatabaseMatcher): PolicyRefusal | undefined {
    if (level.lower === 'applyops') {
      return {
        rule: 'databases',
        message: `${this.account} may use only the databases ${this.databaseList} (Portcullis policy): applyOps can write to any database, so it is not allowed`,
      };
    }
    if (level.lower === 'mapreduce') {
      // mapReduce's output may go to another database: `out: {replace: "c", db: "other"}`.
      for (const field of level.fields) {
        if (!keyIs(raw, field, 'out') || field.type !== BSON_TYPES.document) continue;
        const foreign = foreignDatabaseField(raw, field, matcher);
        if (foreign !== undefined) return this.databaseRefusal(foreign, 'mapReduce out');
      }
      return undefined;
    }
    const spec = NAMESPACE_FIELDS.get(level.lower);
    if (spec === undefined) return undefined;
    for (const [fieldName, kind] of spec) {
      const fields = fieldName === null ? [level.fields[0]] : level.fields.filter((f) => keyIs(raw, f, fieldName));
      for (const field of fields) {
        const value = stringValue(raw, field);
        // Not a string: the server refuses it too; refused here so that no database goes unchecked.
        if (value === undefined) return this.notAString(fieldName === null ? level.name : `${level.name}'s ${fieldName}`);
        const database = kind === 'namespace' ? databaseOf(value) : value;
        if (!matcher(database)) return this.databaseRefusal(database, fieldName === null ? level.name : `${level.name} ${fieldName}`);
      }
    }
    return undefined;
  }

  /**
   * bulkWrite (MongoDB 8.0) runs on admin and writes to the namespaces of its `nsInfo` entries (`{ns: "db.coll"}`),
   * sent in the body or, as drivers do, as a document sequence: each must be in an allowed database.
   */
  private checkBulkWrite(raw: Buffer, identity: CommandIdentity, matcher: DatabaseMatcher): PolicyRefusal | undefined {
    if (identity.name.length !== 9 || asciiLower(identity.name) !== 'bulkwrite') return undefined;
    const entries: DocumentRange[] = [];
    for (const field of identity.fields) {
      if (!keyIs(raw, field, 'nsInfo') || field.type !== BSON_TYPES.array) continue;
      walkDocument(raw, field.valueStart, field.valueEnd, 'bulkWrite nsInfo', (item) => {
        if (item.type === BSON_TYPES.document) entries.push({ start: item.valueStart, end: item.valueEnd });
      });
    }
    for (const sequence of identity.sequences) if (sequence.identifier === 'nsInfo') entries.push(...sequence.documents);
    let refusal: PolicyRefusal | undefined;
    for (const entry of entries) {
      walkDocument(raw, entry.start, entry.end, 'bulkWrite nsInfo entry', (field) => {
        if (!keyIs(raw, field, 'ns')) return true;
        const namespace = stringValue(raw, field);
        if (namespace === undefined) refusal = this.notAString("bulkWrite's nsInfo ns");
        else if (!matcher(databaseOf(namespace))) refusal = this.databaseRefusal(databaseOf(namespace), 'bulkWrite nsInfo');
        return refusal === undefined;
      });
      if (refusal) return refusal;
    }
    return undefined;
  }

  private notAString(what: string): PolicyRefusal {
    return {
      rule: 'databases',
      message: `${this.account} may use only the databases ${this.databaseList} (Portcullis policy): ${printable(what)} must be a string naming a database or namespace`,
    };
  }

  /**
   * One walk over every key of the command document (the OP_QUERY wrapper included) and of every document-sequence
   * document, without recursion; stops at the first finding.
   */
  private scan(raw: Buffer, identity: CommandIdentity, options: ScanOptions): ScanFinding | undefined {
    let finding: ScanFinding | undefined;
    for (const sequence of identity.sequences) {
      // An identifier is a top-level field name of the command.
      const key = sequence.identifier;
      if (key.startsWith('$')) finding = this.keyFinding(asciiLower(key), key, options);
      if (finding) return finding;
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
    const visit = (element: BsonElement) => {
      const length = element.keyEnd - element.keyStart;
      if (length > 1 && length <= this.longestKey && raw[element.keyStart] === 0x24) {
        // latin1: one character per byte. Operators and stages are ASCII, so a key with other bytes never matches,
        // and a key that matches reads the same in UTF-8.
        const key = raw.toString('latin1', element.keyStart, element.keyEnd);
        const lower = asciiLower(key);
        finding = this.keyFinding(lower, key, options);
        if (finding) return false;
        if (options.targets && TARGET_STAGES.has(lower) && element.type === BSON_TYPES.document && this.matcher) {
          const database = stageForeignDatabase(raw, element, this.matcher);
          if (database !== undefined) {
            finding = { kind: 'target', database, via: key };
            return false;
          }
        }
      }
      if (element.type === BSON_TYPES.document || element.type === BSON_TYPES.array) {
        starts.push(element.valueStart);
        ends.push(element.valueEnd);
      }
      return true;
    };
    while (starts.length > 0) {
      walkDocument(raw, starts.pop() as number, ends.pop() as number, 'command', visit);
      if (finding) return finding;
    }
    return undefined;
  }

  private keyFinding(lower: string, key: string, options: ScanOptions): ScanFinding | undefined {
    if (options.operators && this.deniedOperators.has(lower)) return { kind: 'operator', key };
    if (options.writeStages && WRITE_STAGES.has(lower)) return { kind: 'write-stage', key };
    return undefined;
  }
}

/** The command and, for explain, the commands it explains (each the first key of the previous one's value). */
function commandLevels(raw: Buffer, identity: CommandIdentity): { levels: CommandLevel[]; complete: boolean } {
  let level: CommandLevel = { name: identity.name, lower: asciiLower(identity.name), fields: identity.fields };
  const levels = [level];
  while (level.lower === 'explain') {
    const first = level.fields[0];
    if (first.type !== BSON_TYPES.document || levels.length > MAX_EXPLAIN_LEVELS) return { levels, complete: false };
    const fields = topLevelFields(raw, { start: first.valueStart, end: first.valueEnd });
    if (fields.length === 0) return { levels, complete: false };
    const name = raw.toString('utf8', fields[0].keyStart, fields[0].keyEnd);
    level = { name, lower: asciiLower(name), fields };
    levels.push(level);
  }
  return { levels, complete: true };
}

function topLevelFields(raw: Buffer, range: DocumentRange): BsonElement[] {
  const fields: BsonElement[] = [];
  walkDocument(raw, range.start, range.end, 'explained command', (element) => {
    fields.push(element);
  });
  return fields;
}

/** A stage's target namespace (`{db, coll}` as the stage's value or in its into/from/coll field) in a database not allowed. */
function stageForeignDatabase(raw: Buffer, stage: BsonElement, matcher: DatabaseMatcher): string | undefined {
  let foreign = foreignDatabaseField(raw, stage, matcher);
  if (foreign !== undefined) return foreign;
  walkDocument(raw, stage.valueStart, stage.valueEnd, 'stage', (field) => {
    if (field.type !== BSON_TYPES.document || !TARGET_FIELDS.some((name) => keyIs(raw, field, name))) return true;
    foreign = foreignDatabaseField(raw, field, matcher);
    return foreign === undefined;
  });
  return foreign;
}

/** The first string `db` field of the document `element` holds that names a database not allowed. */
function foreignDatabaseField(raw: Buffer, element: BsonElement, matcher: DatabaseMatcher): string | undefined {
  let foreign: string | undefined;
  walkDocument(raw, element.valueStart, element.valueEnd, 'namespace', (field) => {
    if (!keyIs(raw, field, 'db')) return true;
    const database = stringValue(raw, field);
    // Not a string: the server refuses the stage.
    if (database !== undefined && !matcher(database)) foreign = database;
    return foreign === undefined;
  });
  return foreign;
}

/** The database of a `db.coll` namespace (the whole string when it has no dot). */
function databaseOf(namespace: string): string {
  const dot = namespace.indexOf('.');
  return dot === -1 ? namespace : namespace.slice(0, dot);
}

function describe(levels: readonly CommandLevel[]): string {
  return levels.map((l) => printable(l.name)).join(' of ');
}

/** Lower-cases A-Z only: the server treats other bytes as they are. */
function asciiLower(key: string): string {
  return key.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** Client strings in messages: control characters escaped, long ones cut. */
function printable(value: string): string {
  return JSON.stringify(value.slice(0, 200)).slice(1, -1);
}
