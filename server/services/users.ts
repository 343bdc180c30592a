/** User records: lookup, creation (with an argon2id hash), and their public shape. */
import type { Kysely } from 'kysely';
import type { UserDto } from '../../protocol/api';
import { hashPassword, passwordProblem } from '../auth/passwords';
import { newId } from '../store/ids';
import type { Database, UserRow } from '../store/schema';
import { invalid } from './service-error';

/** Emails are compared and stored lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function toUserDto(row: Pick<UserRow, 'id' | 'email' | 'name' | 'created_at'>): UserDto {
  return { id: row.id, email: row.email, name: row.name, createdAt: row.created_at };
}

export function findUserByEmail(db: Kysely<Database>, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst();
}

export function findUserById(db: Kysely<Database>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function createUser(
  db: Kysely<Database>,
  input: { email: string; name?: string; password: string },
  time: string,
): Promise<UserRow> {
  const problem = passwordProblem(input.password);
  if (problem) throw invalid(`password: ${problem}`);
  const email = normalizeEmail(input.email);
  const row: UserRow = {
    id: newId('usr_'),
    email,
    name: input.name?.trim() || email.split('@')[0] || email,
    password_hash: await hashPassword(input.password),
    created_at: time,
    updated_at: time,
  };
  await db.insertInto('users').values(row).execute();
  return row;
}
