/** The project key cache of a control plane, and the AAD of each encrypted column. */
import type { Kysely } from 'kysely';
import { fieldAad } from '../secrets/envelope';
import { ProjectKeys } from '../secrets/project-keys';
import type { Database } from '../store/schema';

/** Project keys read through the store handle each caller passes: `trx` inside a transaction, else `store.db`. */
export type StoreProjectKeys = ProjectKeys<Kysely<Database>>;

export function newProjectKeys(rootKey: Buffer): StoreProjectKeys {
  return new ProjectKeys(rootKey, (db: Kysely<Database>, projectId) =>
    db
      .selectFrom('projects')
      .select('data_key_wrapped')
      .where('id', '=', projectId)
      .executeTakeFirst()
      .then((row) => row?.data_key_wrapped),
  );
}

/** The additional data that binds a ciphertext to its row and column. */
export const secretAad = Object.freeze({
  accountPassword: (accountId: string) => fieldAad(accountId, 'password'),
  resourceCaCertificate: (resourceId: string) => fieldAad(resourceId, 'ca_certificate'),
});
