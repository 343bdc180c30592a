import { BSON_TYPES, type BsonElement, keyIs, walkDocument } from '../wire/bson-walk';
import { AUTHENTICATION_KEYS, type CommandIdentity } from '../wire/command-identity';
import { renderBson } from './bson-render';
import { isAuthenticationSecretKey, isSecretKey, maskText } from './masking';
import type { RecordingOptions } from './options';
import { capText, cutUtf8 } from './text-cap';

/** Top-level fields drivers add to every command; they say nothing about what the user asked for. */
const NOISE_FIELDS: ReadonlySet<string> = new Set(['$clusterTime', 'lsid', 'signature', '$readPreference', 'txnNumber', '$db']);

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

/**
 * Renders the command from its bytes (see bson-render.ts): fields in the order and number they were sent, noise
 * fields left out, document sequences counted, binary summarized, secrets masked (see masking.ts).
 */
export function renderCommand(raw: Buffer, identity: CommandIdentity, options: RecordingOptions): RenderedCommand {
  const name = cutUtf8(identity.name, MAX_NAME_BYTES);
  const masks = options.maskPatterns;
  let input: string;
  let elided = false;
  try {
    const rendered = renderBson(raw, identity.body.start, identity.body.end, {
      budget: Math.max(1024, options.maxEventBytes * 4),
      maxDepth: MAX_DEPTH,
      binary: 'summary',
      secretKey: carriesAuthentication(raw, identity) ? isAuthenticationSecretKey : isSecretKey,
      maskText: (text) => maskText(text, masks),
      skipTopLevel: (key) => NOISE_FIELDS.has(key),
      appendTopLevel: identity.sequences.map((sequence) => {
        const n = sequence.documents.length;
        return [sequence.identifier, `<${n} document${n === 1 ? '' : 's'}>`] as const;
      }),
    });
    input = rendered.text;
    elided = rendered.elided;
  } catch (error) {
    input = JSON.stringify({ [name]: `<could not render the command: ${(error as Error).message}>` });
  }
  const rendered: RenderedCommand = {
    database: cutUtf8(identity.database, MAX_NAME_BYTES),
    command: name,
    input,
    elided,
  };
  const collection = collectionOf(raw, identity);
  if (collection !== undefined) rendered.collection = cutUtf8(collection, MAX_NAME_BYTES);
  return rendered;
}

/** Enough bytes of a name to cut it to MAX_NAME_BYTES characters' worth without decoding a huge string. */
const NAME_DECODE_BYTES = MAX_NAME_BYTES * 4;

function collectionOf(raw: Buffer, identity: CommandIdentity): string | undefined {
  let element: BsonElement | undefined;
  if (identity.name === 'getMore') {
    element = identity.fields.find((field) => keyIs(raw, field, 'collection'));
  } else if (COLLECTION_COMMANDS.has(identity.name)) {
    element = identity.fields[0];
    if (element.valueEnd - element.valueStart <= 5) return undefined; // the empty string
  }
  if (element === undefined || element.type !== BSON_TYPES.string) return undefined;
  const start = element.valueStart + 4;
  return raw.toString('utf8', start, Math.min(element.valueEnd - 1, start + NAME_DECODE_BYTES));
}

/**
 * True when a top-level key (or, for explain, a key of the explained command) is one the gateway treats as
 * authentication: then `payload` and `key` are masked too, at any depth. Keys compare in ASCII lower case, as the
 * gateway compares them when it refuses the command.
 */
function carriesAuthentication(raw: Buffer, identity: CommandIdentity): boolean {
  const isAuthenticationKey = (element: BsonElement) =>
    AUTHENTICATION_KEYS.has(raw.toString('latin1', element.keyStart, element.keyEnd).replace(/[A-Z]/g, (c) => c.toLowerCase()));
  if (identity.fields.some(isAuthenticationKey)) return true;
  const first = identity.fields[0];
  if (first.type !== BSON_TYPES.document) return false;
  let found = false;
  walkDocument(raw, first.valueStart, first.valueEnd, 'explained command', (element) => {
    found = isAuthenticationKey(element);
    return !found;
  });
  return found;
}
