/**
 * Account policies (issue 14): what a database account's sessions may do through the gateway, on top of what the
 * account's own MongoDB privileges allow. Shared by the server (stores and validates them), the gateway (enforces
 * them on the bytes of each command, see gateway/policy/) and the CLI. No imports from server/ or gateway/.
 */

export type PolicyMode = 'read-write' | 'read-only';

/** The part of a policy that refused a command (logged with it). */
export type PolicyRule = 'read-only' | 'databases' | 'denied';

export interface AccountPolicy {
  /** read-only is an allow-list (READ_ONLY_COMMANDS), not a deny-list. */
  mode: PolicyMode;
  /**
   * Database names or glob patterns (`*` any run of characters, `?` one character; nothing else is special) the
   * account may use; empty = any database. Compared case-sensitively, like MongoDB database names.
   */
  databases: string[];
  /** Command names (`dropDatabase`) and query/aggregation operators (`$where`) the account may not use; compared case-insensitively. */
  denied: string[];
  /** `access` must carry a reason. */
  reasonRequired: boolean;
  /**
   * `access` needs an admin's approval: it creates an access request (with its reason) and waits; an approved
   * request is a time-boxed grant that allows sessions until it ends. Implies a reason.
   */
  approvalRequired: boolean;
}

export const DEFAULT_POLICY: Readonly<AccountPolicy> = Object.freeze({
  mode: 'read-write',
  databases: Object.freeze([]) as unknown as string[],
  denied: Object.freeze([]) as unknown as string[],
  reasonRequired: false,
  approvalRequired: false,
});

export const POLICY_PRESETS: Readonly<Record<'safe-defaults', readonly string[]>> = Object.freeze({
  'safe-defaults': Object.freeze([
    // Whole databases and collections gone in one command.
    'dropDatabase',
    'drop',
    // User and role administration: an account that can change who may do what can undo every other rule.
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
    // Server-side JavaScript: arbitrary code on the database server, opaque to the session log.
    '$where',
    '$function',
    '$accumulator',
    'mapReduce',
    // Stops the server for every user.
    'shutdown',
    // `fsync` with `lock: true` blocks every write on the server until someone unlocks it.
    'fsync',
    // Applies raw oplog entries to any namespace: a way around every denied command (it can carry a `drop`).
    'applyOps',
    // `dropTarget: true` drops the target collection (a way around `drop`), and it can move a collection to
    // another database.
    'renameCollection',
    // Server-wide settings and version compatibility: they change the server for every user, not one database.
    'setParameter',
    'setFeatureCompatibilityVersion',
    // Replica-set membership and elections: an outage for every client of the deployment.
    'replSetReconfig',
    'replSetStepDown',
  ]),
});

/**
 * What a read-only account may run: exact command names (compared case-insensitively, so the lower-case aliases
 * `ismaster` and `buildinfo` are covered). Anything else is refused. `aggregate` is refused when its pipeline writes
 * (`$out`, `$merge`), `explain` when the command it explains would be refused.
 */
export const READ_ONLY_COMMANDS: readonly string[] = Object.freeze([
  // Handshake and connection: every driver and shell sends these.
  'hello',
  'isMaster',
  'ping',
  'buildInfo',
  'connectionStatus',
  'whatsmyuri',
  'atlasVersion',
  'listCommands',
  // Sessions and transactions: drivers end their sessions on close; a transaction of reads commits nothing.
  'startSession',
  'endSessions',
  'refreshSessions',
  'commitTransaction',
  'abortTransaction',
  // Reading data; killCursors frees the client's own cursors (drivers send it when a cursor is closed early).
  'find',
  'getMore',
  'killCursors',
  'aggregate',
  'count',
  'distinct',
  'explain',
  // Catalog: databases, collections, indexes, search indexes, sizes.
  'listDatabases',
  'listCollections',
  'listIndexes',
  'listSearchIndexes',
  'dbStats',
  'collStats',
  'dataSize',
  // Users and roles, looked at (mongosh `show users`, `show roles`).
  'usersInfo',
  'rolesInfo',
  // Diagnostics that change nothing (Compass and mongosh send several at connect time).
  'serverStatus',
  'hostInfo',
  'getCmdLineOpts',
  'getParameter',
  'getLog',
  'currentOp',
  'top',
  'replSetGetStatus',
  'getDefaultRWConcern',
]);

const LIMITS = Object.freeze({ entries: 100, length: 120 });

/** MongoDB's forbidden database-name characters; `*` and `?` are this policy's wildcards. */
const FORBIDDEN_DATABASE_CHARACTERS = ['/', '\\', '.', ' ', '"', '$', '\0'];
const COMMAND_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const OPERATOR_NAME = /^\$[A-Za-z][A-Za-z0-9_]*$/;
const FIELDS = new Set(['mode', 'databases', 'denied', 'reasonRequired', 'approvalRequired']);

/**
 * Checks a policy from the API (JSON) and returns it with missing fields filled from DEFAULT_POLICY, duplicate
 * entries removed (denied entries compared case-insensitively), or an error naming the field.
 */
export function validatePolicy(input: unknown): { policy: AccountPolicy } | { error: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { error: 'policy must be an object' };
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!FIELDS.has(key))
      return { error: `policy has an unknown field "${quote(key)}" (known: mode, databases, denied, reasonRequired, approvalRequired)` };
  }

  let mode = DEFAULT_POLICY.mode;
  if (record.mode !== undefined) {
    if (record.mode !== 'read-write' && record.mode !== 'read-only') return { error: 'policy.mode must be "read-write" or "read-only"' };
    mode = record.mode;
  }

  let reasonRequired = DEFAULT_POLICY.reasonRequired;
  if (record.reasonRequired !== undefined) {
    if (typeof record.reasonRequired !== 'boolean') return { error: 'policy.reasonRequired must be true or false' };
    reasonRequired = record.reasonRequired;
  }

  let approvalRequired = DEFAULT_POLICY.approvalRequired;
  if (record.approvalRequired !== undefined) {
    if (typeof record.approvalRequired !== 'boolean') return { error: 'policy.approvalRequired must be true or false' };
    approvalRequired = record.approvalRequired;
  }

  const databases = stringList(record.databases, 'databases');
  if ('error' in databases) return databases;
  for (const [i, pattern] of databases.list.entries()) {
    const bad = FORBIDDEN_DATABASE_CHARACTERS.find((c) => pattern.includes(c));
    if (bad !== undefined) {
      return {
        error: `policy.databases[${i}] "${quote(pattern)}" contains ${JSON.stringify(bad)}, which a MongoDB database name cannot contain (only * and ? are wildcards)`,
      };
    }
  }

  const denied = stringList(record.denied, 'denied');
  if ('error' in denied) return denied;
  for (const [i, entry] of denied.list.entries()) {
    if (!COMMAND_NAME.test(entry) && !OPERATOR_NAME.test(entry)) {
      return {
        error: `policy.denied[${i}] "${quote(entry)}" is neither a command name (like dropDatabase) nor an operator (like $where)`,
      };
    }
  }

  return {
    policy: {
      mode,
      databases: unique(databases.list, (s) => s),
      denied: unique(denied.list, (s) => s.toLowerCase()),
      reasonRequired,
      approvalRequired,
    },
  };
}

function stringList(value: unknown, field: 'databases' | 'denied'): { list: string[] } | { error: string } {
  if (value === undefined) return { list: [] };
  if (!Array.isArray(value)) return { error: `policy.${field} must be an array of strings` };
  if (value.length > LIMITS.entries) return { error: `policy.${field} has ${value.length} entries; at most ${LIMITS.entries} are allowed` };
  for (const [i, item] of value.entries()) {
    if (typeof item !== 'string') return { error: `policy.${field}[${i}] must be a string` };
    if (item.length === 0) return { error: `policy.${field}[${i}] is empty` };
    if (item.length > LIMITS.length) {
      return { error: `policy.${field}[${i}] is ${item.length} characters long; at most ${LIMITS.length} are allowed` };
    }
  }
  return { list: [...(value as string[])] };
}

function unique(list: readonly string[], key: (s: string) => string): string[] {
  const seen = new Set<string>();
  return list.filter((s) => {
    const k = key(s);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A client string inside an error message: control characters escaped, long ones cut. */
function quote(value: string): string {
  return JSON.stringify(value.slice(0, 120)).slice(1, -1);
}
