/**
 * The first start: an admin user with a random one-time password and a project named `default`.
 * `resetAdminPassword` gives an admin a new one-time password (for `portcullis server bootstrap`).
 */
import type { Kysely } from 'kysely';
import { insertProject } from '../services/projects';
import { createUser, findUserByEmail, normalizeEmail } from '../services/users';
import { isUniqueViolation } from '../store/errors';
import type { Database, UserRow } from '../store/schema';
import type { Store } from '../store/store';
import { hashPassword, newOneTimePassword } from './passwords';

export interface BootstrapResult {
  email: string;
  /** Shown once to whoever started the server; only its argon2id hash is stored. */
  password: string;
}

export interface BootstrapOptions {
  /** Defaults to admin@localhost. */
  email?: string;
  /** Wraps the default project's data key: `() => newWrappedDataKey(rootKey)` (server/secrets/envelope). */
  newWrappedKey: () => string;
  now?: Date;
}

/**
 * Creates the first admin and the `default` project when the store has no user yet; otherwise returns null.
 * Control planes starting together on one database: the lock makes one of them create the admin, and the others
 * find it and return null.
 */
export async function bootstrap(store: Store, options: BootstrapOptions): Promise<BootstrapResult | null> {
  const time = (options.now ?? new Date()).toISOString();
  const email = normalizeEmail(options.email ?? 'admin@localhost');
  const password = newOneTimePassword();
  try {
    return await store.lockedTransaction(['bootstrap'], async (trx) => {
      const any = await trx.selectFrom('users').select('id').limit(1).executeTakeFirst();
      if (any) return null;
      const user = await createUser(trx, { email, name: 'Admin', password }, time);
      await insertProject(trx, options.newWrappedKey(), { name: 'default', adminUserId: user.id }, time);
      return { email, password };
    });
  } catch (error) {
    // Belt and braces: should a user with this email appear anyway (a store written by an older version without the
    // lock), there is nothing to bootstrap.
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/** The admin `server bootstrap` resets by default, and `portcullis start` names: the oldest admin of any project. */
export function findFirstAdmin(db: Kysely<Database>): Promise<(UserRow & { project_id: string }) | undefined> {
  return db
    .selectFrom('project_members')
    .innerJoin('users', 'users.id', 'project_members.user_id')
    .selectAll('users')
    .select('project_members.project_id')
    .where('project_members.role', '=', 'admin')
    .orderBy('project_members.created_at')
    .orderBy('users.id')
    .orderBy('project_members.project_id')
    .executeTakeFirst();
}

/**
 * Sets a new random password for an admin and revokes their sign-in tokens. `email` defaults to the oldest
 * admin of any project. When the store has no user at all, this bootstraps instead.
 */
export async function resetAdminPassword(store: Store, options: BootstrapOptions): Promise<BootstrapResult> {
  const first = await bootstrap(store, options);
  if (first) return first;
  const time = (options.now ?? new Date()).toISOString();
  const user = options.email ? await findUserByEmail(store.db, options.email) : await findFirstAdmin(store.db);
  if (!user) {
    throw new Error(
      options.email
        ? `no user has the email ${normalizeEmail(options.email)}: give the email of an existing admin`
        : 'no project has an admin: give the email of the user to reset',
    );
  }
  const password = newOneTimePassword();
  const hash = await hashPassword(password);
  await store.transaction(async (trx) => {
    await trx.updateTable('users').set({ password_hash: hash, updated_at: time }).where('id', '=', user.id).execute();
    await trx.updateTable('api_tokens').set({ revoked_at: time }).where('user_id', '=', user.id).where('revoked_at', 'is', null).execute();
  });
  return { email: user.email, password };
}
