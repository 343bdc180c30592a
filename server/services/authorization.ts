/**
 * Project roles. Policy (the same on every route): a user who is not a member of the project that owns a
 * thing gets 404 for it, as if it did not exist; a member who lacks the admin role gets 403.
 */
import type { Role } from '../../protocol/api';
import type { Actor, ServiceContext } from './context';
import { forbidden, notFound } from './service-error';

export async function roleIn(ctx: ServiceContext, userId: string, projectId: string): Promise<Role | null> {
  const row = await ctx.store.db
    .selectFrom('project_members')
    .select('role')
    .where('project_id', '=', projectId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.role ?? null;
}

/**
 * Throws 404 (naming `what`) when the actor is not a member of the project, 403 when `need` is admin and
 * the actor is only a member. Returns the actor's role.
 */
export async function requireRole(ctx: ServiceContext, actor: Actor, projectId: string, need: Role, what: string): Promise<Role> {
  const role = await roleIn(ctx, actor.userId, projectId);
  if (role === null) throw notFound(what);
  if (need === 'admin' && role !== 'admin') throw forbidden(`only a project admin can do this (you are a member of the project)`);
  return role;
}

/** Project ids where the actor has each role. */
export async function projectsOf(ctx: ServiceContext, userId: string): Promise<{ admin: string[]; member: string[] }> {
  const rows = await ctx.store.db.selectFrom('project_members').select(['project_id', 'role']).where('user_id', '=', userId).execute();
  return {
    admin: rows.filter((r) => r.role === 'admin').map((r) => r.project_id),
    member: rows.filter((r) => r.role === 'member').map((r) => r.project_id),
  };
}
