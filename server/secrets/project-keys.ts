import { decryptSecret, encryptSecret, unwrapDataKey } from './envelope';

/**
 * Reads a project's wrapped data key (`projects.data_key_wrapped`) through `handle`; undefined when there is no such
 * project.
 */
export type WrappedKeyLoader<Handle> = (handle: Handle, projectId: string) => Promise<string | undefined>;

/**
 * Unwrapped data keys, cached per project id so that each is unwrapped once per process.
 *
 * Every call names the database handle a key that is not cached yet is read through. Inside a store transaction
 * that must be the transaction itself: on SQLite's single connection, a read through the outer handle waits for
 * the transaction, which waits for the read (issue 12: a resource created with a CA certificate on a fresh
 * project hung the whole control plane). With no handle of its own, this class cannot make that mistake.
 *
 * Example loader: `(db, id) => db.selectFrom('projects').select('data_key_wrapped').where('id', '=', id)
 *   .executeTakeFirst().then((row) => row?.data_key_wrapped)`.
 */
export class ProjectKeys<Handle extends object> {
  private readonly keys = new Map<string, Buffer>();
  /**
   * Loads in flight, shared only by callers on the same handle: a load through one transaction must not hand
   * another request that transaction's failure (or make it wait on that connection).
   */
  private readonly loading = new WeakMap<Handle, Map<string, Promise<Buffer>>>();

  constructor(
    private readonly rootKey: Buffer,
    private readonly loadWrapped: WrappedKeyLoader<Handle>,
  ) {}

  /** The project's data key. Throws when the project does not exist or its key does not unwrap. */
  dataKey(handle: Handle, projectId: string): Promise<Buffer> {
    const known = this.keys.get(projectId);
    if (known) return Promise.resolve(known);
    let inFlight = this.loading.get(handle);
    if (!inFlight) {
      inFlight = new Map();
      this.loading.set(handle, inFlight);
    }
    let key = inFlight.get(projectId);
    if (!key) {
      const loads = inFlight;
      key = this.unwrap(handle, projectId).finally(() => loads.delete(projectId));
      loads.set(projectId, key);
    }
    // A failure is not cached: the project may be created, or the store reachable, a moment later.
    return key;
  }

  async encrypt(handle: Handle, projectId: string, plaintext: string, aad: string): Promise<string> {
    return encryptSecret(await this.dataKey(handle, projectId), plaintext, aad);
  }

  async decrypt(handle: Handle, projectId: string, ciphertext: string, aad: string): Promise<string> {
    return decryptSecret(await this.dataKey(handle, projectId), ciphertext, aad);
  }

  /** Drops a cached key, e.g. when its project is deleted. */
  forget(projectId: string): void {
    this.keys.delete(projectId);
  }

  private async unwrap(handle: Handle, projectId: string): Promise<Buffer> {
    const wrapped = await this.loadWrapped(handle, projectId);
    if (wrapped === undefined) throw new Error(`project ${projectId} does not exist, so it has no data key`);
    const key = unwrapDataKey(this.rootKey, wrapped);
    this.keys.set(projectId, key);
    return key;
  }
}
