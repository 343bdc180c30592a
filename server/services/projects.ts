/** Projects: the unit of ownership. Whoever creates one is its first admin. */
import type { Kysely } from 'kysely';
import type { ProjectDto } from '../../protocol/api';
import { newWrappedDataKey } from '../secrets/envelope';
import { newId } from '../store/ids';
import type { Database } from '../store/schema';
import { AUDIT_ACTIONS, recordAudit } from './audit';
import { type Actor, nowIso, type ServiceContext } from './context';

export async function listProjects(ctx: ServiceContext, userId: string): Promise<ProjectDto[]> {
  const rows = await ctx.store.db
    .selectFrom('project_members')
    .innerJoin('projects', 'projects.id', 'project_members.project_id')
    .select(['projects.id', 'projects.name', 'project_members.role'])
    .where('project_members.user_id', '=', userId)
    .orderBy('projects.name')
    .orderBy('projects.id')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, role: r.role }));
}

/** Inserts a project with a fresh data key and its first admin (inside the caller's transaction). */
export async function insertProject(
  db: Kysely<Database>,
  wrappedKey: string,
  input: { name: string; adminUserId: string },
  time: string,
): Promise<ProjectDto> {
  const id = newId('prj_');
  await db
    .insertInto('projects')
    .values({ id, name: input.name, data_key_wrapped: wrappedKey, mfa_enforced_method: null, created_at: time })
    .execute();
  await db.insertInto('project_members').values({ project_id: id, user_id: input.adminUserId, role: 'admin', created_at: time }).execute();
  return { id, name: input.name, role: 'admin' };
}

export async function createProject(ctx: ServiceContext, actor: Actor, name: string): Promise<ProjectDto> {
  const time = nowIso(ctx);
  return ctx.store.transaction(async (trx) => {
    const project = await insertProject(trx, newWrappedDataKey(ctx.rootKey), { name: name.trim(), adminUserId: actor.userId }, time);
    await recordAudit(trx, time, {
      projectId: project.id,
      actor,
      action: AUDIT_ACTIONS.projectCreated,
      targetType: 'project',
      targetId: project.id,
      details: { name: project.name },
    });
    return project;
  });
}
