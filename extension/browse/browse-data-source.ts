import { type Document, MongoClient } from 'mongodb';

/** What the data source needs of a session: its id (one client each) and its local address. */
export interface BrowseSession {
  id: string;
  uri: string;
}

export interface DatabaseInfo {
  name: string;
  sizeOnDisk?: number;
  empty?: boolean;
}

export interface CollectionInfo {
  name: string;
  /** `collection`, `view` or `timeseries`, as listCollections says. */
  type: string;
  /** estimatedDocumentCount; undefined for views, beyond COUNT_LIMIT, or when counting failed (see countError). */
  count?: number;
  countError?: unknown;
}

export interface IndexInfo {
  name: string;
  key: Document;
  unique?: boolean;
  sparse?: boolean;
  expireAfterSeconds?: number;
}

export interface DocumentPage {
  documents: Document[];
  /** Whether the collection has documents after this page. */
  more: boolean;
}

export interface BrowseDataSourceOptions {
  /** A client nobody used for this long is closed (default 3 minutes). */
  idleCloseMs?: number;
  /** How long a command waits for the local address to answer (default 5 s). */
  serverSelectionTimeoutMs?: number;
}

/** Collections beyond this many are listed without a count: each count is a command in the session log. */
export const COUNT_LIMIT = 100;
/** Counts run this many at a time, so a database with many collections does not open a connection per count. */
const COUNT_CONCURRENCY = 4;
/** How the browse's connections name themselves to the gateway: the session log tells them from mongosh's. */
export const BROWSE_APP_NAME = 'Portcullis for VS Code (browse)';

interface ClientEntry {
  client: MongoClient;
  uri: string;
  inFlight: number;
  idleTimer?: NodeJS.Timeout;
}

/**
 * Reads databases, collections, indexes and documents through a session's local address with the official driver:
 * everything goes through the gateway and is recorded like any other command, there is no side channel.
 *
 * One MongoClient per session, opened on first use, with directConnection (the local address is one server; there is
 * nothing to discover) and a short server-selection timeout (a session that ended should fail fast, not hang a tree).
 * A client closes when its session ends (`close`) and after `idleCloseMs` without use: an open connection counts as
 * activity at the gateway, so a forgotten tree must not keep a session from ending idle. No VS Code types here.
 */
export class BrowseDataSource {
  private readonly clients = new Map<string, ClientEntry>();
  private readonly idleCloseMs: number;
  private readonly serverSelectionTimeoutMs: number;

  constructor(options: BrowseDataSourceOptions = {}) {
    this.idleCloseMs = options.idleCloseMs ?? 3 * 60_000;
    this.serverSelectionTimeoutMs = options.serverSelectionTimeoutMs ?? 5000;
  }

  /** Databases the account may see (the gateway filters listDatabases by the account's policy), by name. */
  listDatabases(session: BrowseSession): Promise<DatabaseInfo[]> {
    return this.use(session, async (client) => {
      const reply = await client.db('admin').admin().listDatabases();
      return reply.databases
        .map((d) => ({ name: d.name, sizeOnDisk: d.sizeOnDisk, empty: d.empty }))
        .sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  /** A database's collections and views by name, collections with an estimated document count. */
  listCollections(session: BrowseSession, database: string): Promise<CollectionInfo[]> {
    return this.use(session, async (client) => {
      const db = client.db(database);
      const listed = await db.listCollections({}, { nameOnly: false }).toArray();
      const collections: CollectionInfo[] = listed
        .map((c) => ({ name: String(c.name), type: typeof c.type === 'string' ? c.type : 'collection' }))
        .sort((a, b) => a.name.localeCompare(b.name));
      const countable = collections.filter((c) => c.type !== 'view').slice(0, COUNT_LIMIT);
      await eachLimited(countable, COUNT_CONCURRENCY, async (c) => {
        try {
          c.count = await db.collection(c.name).estimatedDocumentCount();
        } catch (error) {
          c.countError = error;
        }
      });
      return collections;
    });
  }

  listIndexes(session: BrowseSession, database: string, collection: string): Promise<IndexInfo[]> {
    return this.use(session, async (client) => {
      const indexes = await client.db(database).collection(collection).listIndexes().toArray();
      return indexes.map((i) => ({
        name: String(i.name),
        key: i.key as Document,
        unique: i.unique === true ? true : undefined,
        sparse: i.sparse === true ? true : undefined,
        expireAfterSeconds: typeof i.expireAfterSeconds === 'number' ? i.expireAfterSeconds : undefined,
      }));
    });
  }

  /**
   * `limit` documents after the first `skip`, in `_id` order so that pages neither repeat nor miss documents while
   * nothing is written. One more is asked for, to know whether there is a next page without counting.
   */
  findPage(session: BrowseSession, database: string, collection: string, skip: number, limit: number): Promise<DocumentPage> {
    return this.use(session, async (client) => {
      const documents = await client
        .db(database)
        .collection(collection)
        .find({}, { sort: { _id: 1 }, skip, limit: limit + 1, batchSize: limit + 1 })
        .toArray();
      const more = documents.length > limit;
      return { documents: more ? documents.slice(0, limit) : documents, more };
    });
  }

  /** Closes the session's client, if it has one (its session ended). */
  async close(sessionId: string): Promise<void> {
    const entry = this.clients.get(sessionId);
    if (!entry) return;
    this.clients.delete(sessionId);
    clearTimeout(entry.idleTimer);
    await entry.client.close().catch(() => {});
  }

  /** Closes the clients of sessions not in `running` (called whenever the window's sessions change). */
  async closeAllExcept(running: ReadonlySet<string>): Promise<void> {
    await Promise.all([...this.clients.keys()].filter((id) => !running.has(id)).map((id) => this.close(id)));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.clients.keys()].map((id) => this.close(id)));
  }

  /** Session ids with an open client, for tests and diagnostics. */
  openSessions(): string[] {
    return [...this.clients.keys()];
  }

  private async use<T>(session: BrowseSession, work: (client: MongoClient) => Promise<T>): Promise<T> {
    const entry = this.entryFor(session);
    entry.inFlight++;
    clearTimeout(entry.idleTimer);
    try {
      return await work(entry.client);
    } finally {
      entry.inFlight--;
      if (entry.inFlight === 0 && this.clients.get(session.id) === entry) {
        entry.idleTimer = setTimeout(() => void this.close(session.id), this.idleCloseMs);
        entry.idleTimer.unref();
      }
    }
  }

  private entryFor(session: BrowseSession): ClientEntry {
    const existing = this.clients.get(session.id);
    if (existing && existing.uri === session.uri) return existing;
    if (existing) void this.close(session.id);
    const client = new MongoClient(session.uri, {
      directConnection: true,
      serverSelectionTimeoutMS: this.serverSelectionTimeoutMs,
      connectTimeoutMS: this.serverSelectionTimeoutMs,
      appName: BROWSE_APP_NAME,
      // A tree expands a few nodes at a time: two connections are plenty, and each is one more at the gateway.
      maxPoolSize: 2,
    });
    const entry: ClientEntry = { client, uri: session.uri, inFlight: 0 };
    this.clients.set(session.id, entry);
    return entry;
  }
}

async function eachLimited<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
