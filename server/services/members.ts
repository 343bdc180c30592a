/** Project membership: add (creating the user when new), change role, remove. A project keeps at least one admin. */
import type { Kysely } from 'kysely';
import type { AddMemberRequest, MemberDto, Page, Role } from '../../protocol/api';
import { isUniqueViolation } from '../store/errors';
import type { Database } from '../store/schema';
import { AUDIT_ACTIONS, recordAudit } from './audit';
import { type Actor, nowIso, type ServiceContext } from './context';
import { DEFAULT_PAGE_SIZE, decodeCursor, pageOf } from './cursor';
import { conflict, invalid, notFound } from './service-error';
import { createUser, findUserByEmail } from './users';

/** The emails of the project's admins, but `exceptUserId`'s (who to tell about a request or a risk). */
export async function adminEmails(ctx: ServiceContext, projectId: string, exceptUserId?: string): Promise<string[]> {
  let q = ctx.store.db
    .selectFrom('project_members')
    .innerJoin('users', 'users.id', 'project_members.user_id')
    .select('users.email')
    .where('project_members.project_id', '=', projectId)
    .where('project_members.role', '=', 'admin');
  if (exceptUserId) q = q.where('users.id', '!=', exceptUserId);
  return (await q.execute()).map((row) => row.email);
}

/** A page of the project's members by email (then user id), after `cursor`. */
export async function listMembers(
  ctx: ServiceContext,
  projectId: string,
  query: { limit?: number; cursor?: string } = {},
): Promise<Page<MemberDto>> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  let q = ctx.store.db
    .selectFrom('project_members')
    .innerJoin('users', 'users.id', 'project_members.user_id')
    .select(['users.id', 'users.email', 'users.name', 'project_members.role', 'project_members.created_at'])
    .where('project_members.project_id', '=', projectId);
  if (query.cursor) {
    const [email, id] = decodeCursor(query.cursor, ['s', 's']) as [string, string];
    q = q.where((eb) => eb.or([eb('users.email', '>', email), eb.and([eb('users.email', '=', email), eb('users.id', '>', id)])]));
  }
  const rows = await q
    .orderBy('users.email')
    .orderBy('users.id')
    .limit(limit + 1)
    .execute();
  return pageOf(
    rows,
    limit,
    (r) => ({ userId: r.id, email: r.email, name: r.name, role: r.role, createdAt: r.created_at }),
    (r) => [r.email, r.id],
  );
}

export async function addMember(ctx: ServiceContext, actor: Actor, projectId: string, input: AddMemberRequest): Promise<MemberDto> {
  const time = nowIso(ctx);
  let user = await findUserByEmail(ctx.store.db, input.email);
  if (user && input.password !== undefined) {
    throw invalid('password: this user already exists and keeps their own password; add them without one');
  }
  if (!user && input.password === undefined) {
    throw invalid(`password: no user has the email ${input.email} yet; give a password (and a name) to create one`);
  }
  try {
    return await ctx.store.transaction(async (trx) => {
      const created = !user;
      if (!user) user = await createUser(trx, { email: input.email, name: input.name, password: input.password as string }, time);
      await trx
        .insertInto('project_members')
        .values({ project_id: projectId, user_id: user.id, role: input.role, created_at: time })
        .execute();
      await recordAudit(trx, time, {
        projectId,
        actor,
        action: AUDIT_ACTIONS.memberAdded,
        targetType: 'user',
        targetId: user.id,
        details: { email: user.email, role: input.role, newUser: created },
      });
      return { userId: user.id, email: user.email, name: user.name, role: input.role, createdAt: time };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`${input.email} is already a member of this project (change their role instead)`);
    throw error;
  }
}

/**
 * Changes to a project's admins take this lock: "another admin remains" is a read then a write, and two admins
 * demoting each other at once (on two replicas, or two requests) must not both see the other still admin.
 */
const adminsLock = (projectId: string) => [`project-admins:${projectId}`];

export async function updateMember(ctx: ServiceContext, actor: Actor, projectId: string, userId: string, role: Role): Promise<MemberDto> {
  const time = nowIso(ctx);
  return ctx.store.lockedTransaction(adminsLock(projectId), async (trx) => {
    const member = await trx
      .selectFrom('project_members')
      .innerJoin('users', 'users.id', 'project_members.user_id')
      .select(['users.id', 'users.email', 'users.name', 'project_members.role', 'project_members.created_at'])
      .where('project_members.project_id', '=', projectId)
      .where('project_members.user_id', '=', userId)
      .executeTakeFirst();
    if (!member) throw notFound('member');
    if (member.role === 'admin' && role !== 'admin') await requireAnotherAdmin(trx, projectId, userId);
    await trx.updateTable('project_members').set({ role }).where('project_id', '=', projectId).where('user_id', '=', userId).execute();
    await recordAudit(trx, time, {
      projectId,
      actor,
      action: AUDIT_ACTIONS.memberUpdated,
      targetType: 'user',
      targetId: userId,
      details: { email: member.email, from: member.role, role },
    });
    return { userId: member.id, email: member.email, name: member.name, role, createdAt: member.created_at };
  });
}

export async function removeMember(ctx: ServiceContext, actor: Actor, projectId: string, userId: string): Promise<void> {
  const time = nowIso(ctx);
  await ctx.store.lockedTransaction(adminsLock(projectId), async (trx) => {
    const member = await trx
      .selectFrom('project_members')
      .innerJoin('users', 'users.id', 'project_members.user_id')
      .select(['users.email', 'project_members.role'])
      .where('project_members.project_id', '=', projectId)
      .where('project_members.user_id', '=', userId)
      .executeTakeFirst();
    if (!member) throw notFound('member');
    if (member.role === 'admin') await requireAnotherAdmin(trx, projectId, userId);
    await trx.deleteFrom('project_members').where('project_id', '=', projectId).where('user_id', '=', userId).execute();
    await recordAudit(trx, time, {
      projectId,
      actor,
      action: AUDIT_ACTIONS.memberRemoved,
      targetType: 'user',
      targetId: userId,
      details: { email: member.email, role: member.role },
    });
  });
}

/** Inside the caller's transaction: `trx` is its handle (the outer one would wait for it on SQLite). */
async function requireAnotherAdmin(trx: Kysely<Database>, projectId: string, userId: string): Promise<void> {
  const other = await trx
    .selectFrom('project_members')
    .select('user_id')
    .where('project_id', '=', projectId)
    .where('role', '=', 'admin')
    .where('user_id', '!=', userId)
    .executeTakeFirst();
  if (!other) throw conflict('a project needs at least one admin: make someone else admin first');
}
