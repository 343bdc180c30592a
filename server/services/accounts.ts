/**
 * Accounts: the MongoDB user a session acts as. The password is encrypted with the project's data key (bound
 * to the account id) and leaves the server only towards the session's gateway (`getSessionTarget`).
 */
import type { AccountDto, AccountInput, Page } from '../../protocol/api';
import { type AccountPolicy, DEFAULT_POLICY, validatePolicy } from '../../protocol/policy';
import { isUniqueViolation } from '../store/errors';
import { fromFlag, toFlag } from '../store/flags';
import { newId } from '../store/ids';
import type { AccountRow, AccountUpdate, ResourceRow } from '../store/schema';
import { AUDIT_ACTIONS, recordAudit } from './audit';
import { type Actor, nowIso, type ServiceContext } from './context';
import { DEFAULT_PAGE_SIZE, decodeCursor, pageOf } from './cursor';
import { secretAad } from './project-keys';
import { conflict, invalid } from './service-error';

/** How long a session on an account may last when the admin does not say: 8 hours. */
export const DEFAULT_ACCOUNT_MAX_SESSION_SECONDS = 8 * 3600;

/** The account's policy as stored (null is the default). */
export function policyOf(row: Pick<AccountRow, 'policy'>): AccountPolicy {
  if (row.policy === null) return { ...DEFAULT_POLICY, databases: [], denied: [] };
  const checked = validatePolicy(JSON.parse(row.policy));
  // Stored only after validation; a row that no longer validates (a hand edit) is refused rather than guessed.
  if ('error' in checked) throw new Error(`the stored policy of account ${row.policy} is not valid: ${checked.error}`);
  return checked.policy;
}

/** The policy to store for an input: validated, with defaults; null when it is the default. */
function storedPolicy(input: Partial<AccountPolicy>): { policy: AccountPolicy; json: string | null } {
  const checked = validatePolicy(input);
  if ('error' in checked) throw invalid(`policy: ${checked.error}`);
  const { policy } = checked;
  const isDefault =
    policy.mode === DEFAULT_POLICY.mode &&
    policy.databases.length === 0 &&
    policy.denied.length === 0 &&
    !policy.reasonRequired &&
    !policy.approvalRequired;
  return { policy, json: isDefault ? null : JSON.stringify(policy) };
}

export function toAccountDto(row: AccountRow): AccountDto {
  return {
    id: row.id,
    resourceId: row.resource_id,
    name: row.name,
    description: row.description,
    username: row.username,
    mfaRequired: fromFlag(row.mfa_required),
    maxSessionDurationSeconds: row.max_session_seconds,
    policy: policyOf(row),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function findAccount(ctx: ServiceContext, id: string): Promise<AccountRow | undefined> {
  return ctx.store.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listAccounts(
  ctx: ServiceContext,
  resourceId: string,
  query: { name?: string; limit?: number; cursor?: string },
): Promise<Page<AccountDto>> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  let q = ctx.store.db.selectFrom('accounts').selectAll().where('resource_id', '=', resourceId);
  if (query.name !== undefined) q = q.where('name', '=', query.name);
  if (query.cursor) {
    const [name, id] = decodeCursor(query.cursor, ['s', 's']) as [string, string];
    q = q.where((eb) => eb.or([eb('name', '>', name), eb.and([eb('name', '=', name), eb('id', '>', id)])]));
  }
  const rows = await q
    .orderBy('name')
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  return pageOf(rows, limit, toAccountDto, (r) => [r.name, r.id]);
}

const nameTaken = (name: string) => conflict(`an account named "${name}" already exists on this resource: pick another name`);

export async function createAccount(ctx: ServiceContext, actor: Actor, resource: ResourceRow, input: AccountInput): Promise<AccountDto> {
  const time = nowIso(ctx);
  const id = newId('acc_');
  const policy = storedPolicy(input.policy ?? {});
  const row: AccountRow = {
    id,
    resource_id: resource.id,
    project_id: resource.project_id,
    name: input.name.trim(),
    description: input.description ?? '',
    username: input.username,
    password_enc: await ctx.keys.encrypt(ctx.store.db, resource.project_id, input.password, secretAad.accountPassword(id)),
    mfa_required: toFlag(input.mfaRequired ?? false),
    max_session_seconds: input.maxSessionDurationSeconds ?? DEFAULT_ACCOUNT_MAX_SESSION_SECONDS,
    policy: policy.json,
    created_at: time,
    updated_at: time,
  };
  try {
    await ctx.store.transaction(async (trx) => {
      await trx.insertInto('accounts').values(row).execute();
      await recordAudit(trx, time, {
        projectId: resource.project_id,
        actor,
        action: AUDIT_ACTIONS.accountCreated,
        targetType: 'account',
        targetId: id,
        details: {
          name: row.name,
          resourceId: resource.id,
          resourceName: resource.name,
          username: row.username,
          mfaRequired: input.mfaRequired ?? false,
          policy: policy.policy,
        },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(row.name);
    throw error;
  }
  return toAccountDto(row);
}

export async function updateAccount(
  ctx: ServiceContext,
  actor: Actor,
  existing: AccountRow,
  input: Partial<AccountInput>,
): Promise<AccountDto> {
  const time = nowIso(ctx);
  const changes: AccountUpdate = { updated_at: time };
  if (input.name !== undefined) changes.name = input.name.trim();
  if (input.description !== undefined) changes.description = input.description;
  if (input.username !== undefined) changes.username = input.username;
  if (input.password !== undefined) {
    changes.password_enc = await ctx.keys.encrypt(
      ctx.store.db,
      existing.project_id,
      input.password,
      secretAad.accountPassword(existing.id),
    );
  }
  if (input.mfaRequired !== undefined) changes.mfa_required = toFlag(input.mfaRequired);
  if (input.maxSessionDurationSeconds !== undefined) changes.max_session_seconds = input.maxSessionDurationSeconds;
  const policy = input.policy === undefined ? undefined : storedPolicy(input.policy);
  if (policy) changes.policy = policy.json;
  try {
    await ctx.store.transaction(async (trx) => {
      await trx.updateTable('accounts').set(changes).where('id', '=', existing.id).execute();
      await recordAudit(trx, time, {
        projectId: existing.project_id,
        actor,
        action: AUDIT_ACTIONS.accountUpdated,
        targetType: 'account',
        targetId: existing.id,
        // Field names only: the new password itself never reaches the audit trail.
        details: { name: changes.name ?? existing.name, changed: Object.keys(input), ...(policy ? { policy: policy.policy } : {}) },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(changes.name ?? existing.name);
    throw error;
  }
  return toAccountDto((await findAccount(ctx, existing.id))!);
}

export async function deleteAccount(ctx: ServiceContext, actor: Actor, existing: AccountRow): Promise<void> {
  const time = nowIso(ctx);
  await ctx.store.transaction(async (trx) => {
    await trx.deleteFrom('accounts').where('id', '=', existing.id).execute();
    await recordAudit(trx, time, {
      projectId: existing.project_id,
      actor,
      action: AUDIT_ACTIONS.accountDeleted,
      targetType: 'account',
      targetId: existing.id,
      details: { name: existing.name, resourceId: existing.resource_id },
    });
  });
}
