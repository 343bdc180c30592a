/** The project key cache of a control plane, and the AAD of each encrypted column. */
import type { Kysely } from 'kysely';
import { fieldAad } from '../secrets/envelope';
import { ProjectKeys } from '../secrets/project-keys';
import type { Database } from '../store/schema';

export function newProjectKeys(db: Kysely<Database>, rootKey: Buffer): ProjectKeys {
  return new ProjectKeys(rootKey, (projectId) =>
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
