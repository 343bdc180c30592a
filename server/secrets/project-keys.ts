import { decryptSecret, encryptSecret, unwrapDataKey } from './envelope';

/** Reads a project's wrapped data key (`projects.data_key_wrapped`); undefined when there is no such project. */
export type WrappedKeyLoader = (projectId: string) => Promise<string | undefined>;

/**
 * Unwrapped data keys, cached per project id so that each is unwrapped once per process.
 * Example loader: `(id) => db.selectFrom('projects').select('data_key_wrapped').where('id', '=', id)
 *   .executeTakeFirst().then((row) => row?.data_key_wrapped)`.
 */
export class ProjectKeys {
  private readonly cache = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly rootKey: Buffer,
    private readonly loadWrapped: WrappedKeyLoader,
  ) {}

  /** The project's data key. Throws when the project does not exist or its key does not unwrap. */
  dataKey(projectId: string): Promise<Buffer> {
    let key = this.cache.get(projectId);
    if (!key) {
      key = this.unwrap(projectId);
      this.cache.set(projectId, key);
      // A failure is not cached: the project may be created, or the store reachable, a moment later.
      key.catch(() => this.cache.delete(projectId));
    }
    return key;
  }

  async encrypt(projectId: string, plaintext: string, aad: string): Promise<string> {
    return encryptSecret(await this.dataKey(projectId), plaintext, aad);
  }

  async decrypt(projectId: string, ciphertext: string, aad: string): Promise<string> {
    return decryptSecret(await this.dataKey(projectId), ciphertext, aad);
  }

  /** Drops a cached key, e.g. when its project is deleted. */
  forget(projectId: string): void {
    this.cache.delete(projectId);
  }

  private async unwrap(projectId: string): Promise<Buffer> {
    const wrapped = await this.loadWrapped(projectId);
    if (wrapped === undefined) throw new Error(`project ${projectId} does not exist, so it has no data key`);
    return unwrapDataKey(this.rootKey, wrapped);
  }
}
