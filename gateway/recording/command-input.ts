import { type Document, deserialize, EJSON } from 'bson';
import type { CommandIdentity } from '../wire/command-identity';
import type { RecordingOptions } from './options';
import { capText, cutUtf8 } from './text-cap';

/** Top-level fields drivers add to every command; they say nothing about what the user asked for. */
const NOISE_FIELDS: ReadonlySet<string> = new Set(['$clusterTime', 'lsid', 'signature', '$readPreference', 'txnNumber', '$db']);

/** Field names whose string values are always masked, at any depth (createUser/updateUser `pwd`, and the like). */
const SECRET_FIELDS: ReadonlySet<string> = new Set(['pwd', 'password', 'passwd', 'newpassword']);

/** Commands whose first value is a collection name. */
const COLLECTION_COMMANDS: ReadonlySet<string> = new Set([
  'find',
  'insert',
  'update',
  'delete',
  'aggregate',
  'count',
  'distinct',
  'findAndModify',
  'findandmodify',
  'create',
  'drop',
  'createIndexes',
  'listIndexes',
  'dropIndexes',
  'deleteIndexes',
  'collMod',
  'collStats',
  'validate',
  'mapReduce',
  'compact',
  'reIndex',
  'killCursors',
  'createSearchIndexes',
  'dropSearchIndex',
  'updateSearchIndex',
  'listSearchIndexes',
  'analyzeShardKey',
]);

const MAX_DEPTH = 64;
/** Names (database, command, collection) longer than this are cut: they are identifiers, not payload. */
const MAX_NAME_BYTES = 256;

export interface CommandDescription {
  database: string;
  command: string;
  collection?: string;
  input: string;
  truncated: boolean;
}

/** A command rendered for the log but not yet cut to a size: the recorder cuts it to fit the whole event. */
export interface RenderedCommand {
  database: string;
  command: string;
  collection?: string;
  /** Relaxed Extended JSON; bounded (about 4 × maxEventBytes) but not yet capped. */
  input: string;
  /** Parts of a very large command were already elided while copying it. */
  elided: boolean;
}

/** Describes a client command (read by readCommand) for the session log; `input` is at most `options.maxEventBytes` UTF-8 bytes. */
export function describeCommand(raw: Buffer, identity: CommandIdentity, options: RecordingOptions): CommandDescription {
  const rendered = renderCommand(raw, identity, options);
  const capped = capText(rendered.input, options.maxEventBytes);
  const description: CommandDescription = {
    database: rendered.database,
    command: rendered.command,
    input: capped.text,
    truncated: capped.truncated || rendered.elided,
  };
  if (rendered.collection !== undefined) description.collection = rendered.collection;
  return description;
}

export function renderCommand(raw: Buffer, identity: CommandIdentity, options: RecordingOptions): RenderedCommand {
  const info = { name: identity.name, database: identity.database, body: deserialize(raw.subarray(identity.body.start, identity.body.end)) };
  const state: CleanState = { budget: Math.max(1024, options.maxEventBytes * 4), cut: false, masks: options.maskPatterns };
  const copy: Document = {};
  for (const key of Object.keys(info.body)) {
    if (NOISE_FIELDS.has(key)) continue;
    setField(copy, key, clean(info.body[key], key, 1, state));
  }
  for (const sequence of identity.sequences) {
    const n = sequence.documents.length;
    setField(copy, sequence.identifier, `<${n} document${n === 1 ? '' : 's'}>`);
  }
  let input: string;
  try {
    input = EJSON.stringify(copy, { relaxed: true });
  } catch (error) {
    input = JSON.stringify({ [info.name]: `<could not render the command: ${(error as Error).message}>` });
  }
  const rendered: RenderedCommand = {
    database: cutUtf8(info.database, MAX_NAME_BYTES),
    command: cutUtf8(info.name, MAX_NAME_BYTES),
    input,
    elided: state.cut,
  };
  const collection = collectionOf(info.name, info.body);
  if (collection !== undefined) rendered.collection = cutUtf8(collection, MAX_NAME_BYTES);
  return rendered;
}

function collectionOf(name: string, body: Document): string | undefined {
  if (name === 'getMore') return typeof body.collection === 'string' ? body.collection : undefined;
  if (!COLLECTION_COMMANDS.has(name)) return undefined;
  const value = body[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Plain assignment of a `__proto__` key would change the copy's prototype instead of adding a field. */
function setField(target: Document, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

interface CleanState {
  /** Characters still allowed in the copy; once spent, the rest is elided so huge commands cost little. */
  budget: number;
  cut: boolean;
  masks: RegExp[];
}

function isMasked(value: string, masks: RegExp[]): boolean {
  // String.prototype.search ignores lastIndex, so /g and /y patterns behave the same on every call.
  for (const mask of masks) if (value.search(mask) !== -1) return true;
  return false;
}

/** A copy of `value` fit for the log: masked strings, binary summarized, depth and size bounded. */
function clean(value: unknown, key: string, depth: number, state: CleanState): unknown {
  if (state.budget <= 0) {
    state.cut = true;
    return '…';
  }
  state.budget -= key.length + 4;
  if (typeof value === 'string') {
    if (SECRET_FIELDS.has(key.toLowerCase()) || isMasked(value, state.masks)) {
      state.budget -= 5;
      return '***';
    }
    state.budget -= value.length + 2;
    return value;
  }
  if (value === null || typeof value !== 'object') {
    state.budget -= 8;
    return value;
  }
  if (depth > MAX_DEPTH) {
    state.cut = true;
    return '<nested too deep>';
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      if (state.budget <= 0) {
        state.cut = true;
        out.push(`…<${value.length - i} more>`);
        break;
      }
      out.push(clean(value[i], '', depth + 1, state));
    }
    return out;
  }
  const bsonType = (value as { _bsontype?: string })._bsontype;
  if (bsonType === 'Binary') {
    const binary = value as { sub_type: number; position: number };
    if (binary.sub_type === 4 && binary.position === 16) return value; // a UUID identifies something: keep it readable
    return `<binary ${binary.position} bytes>`;
  }
  if (bsonType !== undefined || value instanceof Date) {
    state.budget -= 32;
    return value;
  }
  const out: Document = {};
  for (const k of Object.keys(value)) {
    if (state.budget <= 0) {
      state.cut = true;
      out['…'] = '<more fields>';
      break;
    }
    setField(out, k, clean((value as Document)[k], k, depth + 1, state));
  }
  return out;
}
