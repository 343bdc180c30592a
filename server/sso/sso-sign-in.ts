/**
 * What a valid single sign-on does to the control plane: finds the user by the provider's identity (issuer + sub),
 * links or creates them just in time, and makes their memberships of the mapped projects follow their groups.
 * Losing a project or an admin role revokes every sign-in token the user has, and ends their sessions there.
 */
import type { Kysely } from 'kysely';
import type { Role } from '../../protocol/api';
import { revokeUserTokens } from '../auth/sign-in';
import { AUDIT_ACTIONS, recordAudit } from '../services/audit';
import type { ServiceContext } from '../services/context';
import { ServiceError } from '../services/service-error';
import { findUserByEmail, normalizeEmail } from '../services/users';
import { newId } from '../store/ids';
import type { Database, UserRow } from '../store/schema';
import { groupsOfClaim, mappedProjects, membershipsFromGroups } from './group-mapping';
import type { VerifiedIdentity } from './oidc-relying-party';
import type { SsoConfig } from './sso-config';
import { ssoDb } from './sso-schema';

/** A password hash no password matches (argon2 cannot parse it): SSO users sign in through their provider only. */
export const NO_PASSWORD = '!sso';

export interface SsoSignInResult {
  user: UserRow;
  /** Projects the user lost (or was demoted in) at this sign-in. */
  lostProjectIds: string[];
  /** Why the sign-in is refused (no mapped project left), after the changes above were committed; else null. */
  refusal: ServiceError | null;
}

export async function signInIdentity(ctx: ServiceContext, settings: SsoConfig, identity: VerifiedIdentity): Promise<SsoSignInResult> {
  const groups = groupsOfClaim(identity.groupsClaim);
  const wanted = membershipsFromGroups(groups, settings.groupMap);
  const time = ctx.now().toISOString();
  return ctx.store.lockedTransaction([`sso-identity:${identity.issuer}:${identity.subject}`], async (trx) => {
    const db = ssoDb(trx);
    const link = await db
      .selectFrom('sso_identities')
      .selectAll()
      .where('issuer', '=', identity.issuer)
      .where('subject', '=', identity.subject)
      .executeTakeFirst();
    let user = link ? await trx.selectFrom('users').selectAll().where('id', '=', link.user_id).executeTakeFirst() : undefined;
    const projects = await resolveProjects(trx, mappedProjects(settings.groupMap));
    const wantedById = new Map<string, Role>();
    for (const [name, role] of wanted) {
      const id = projects.get(name);
      if (id && wantedById.get(id) !== 'admin') wantedById.set(id, role);
    }
    if (!user) {
      if (wantedById.size === 0) throw noProjects(identity, groups);
      user = await linkOrCreateUser(trx, identity, time);
      await db
        .insertInto('sso_identities')
        .values({
          issuer: identity.issuer,
          subject: identity.subject,
          user_id: user.id,
          email: normalizeEmail(identity.email ?? ''),
          groups: JSON.stringify(groups),
          created_at: time,
          last_sign_in_at: time,
        })
        .execute();
    } else {
      await db
        .updateTable('sso_identities')
        .set({ email: normalizeEmail(identity.email ?? user.email), groups: JSON.stringify(groups), last_sign_in_at: time })
        .where('issuer', '=', identity.issuer)
        .where('subject', '=', identity.subject)
        .execute();
    }
    const signedIn = user;
    const lostProjectIds = await syncMemberships(trx, signedIn, new Set(projects.values()), wantedById, groups, time);
    if (lostProjectIds.length > 0) await revokeUserTokens(trx, signedIn.id, time);
    // A refusal is returned, not thrown: what it revoked must commit.
    return { user: signedIn, lostProjectIds, refusal: wantedById.size === 0 ? noProjects(identity, groups) : null };
  });
}

/** Mapped project names (or ids) → project ids, for the ones that exist. */
async function resolveProjects(db: Kysely<Database>, names: Set<string>): Promise<Map<string, string>> {
  if (names.size === 0) return new Map();
  const rows = await db
    .selectFrom('projects')
    .select(['id', 'name'])
    .where((eb) => eb.or([eb('name', 'in', [...names]), eb('id', 'in', [...names])]))
    .execute();
  const out = new Map<string, string>();
  for (const row of rows) {
    if (names.has(row.id)) out.set(row.id, row.id);
    if (names.has(row.name)) out.set(row.name, row.id);
  }
  return out;
}

/**
 * A user seen for the first time: the existing user with that email when the provider says it verified the email
 * (so an admin created by hand keeps their history), else a new user without a password.
 */
async function linkOrCreateUser(db: Kysely<Database>, identity: VerifiedIdentity, time: string): Promise<UserRow> {
  if (!identity.email) {
    throw new ServiceError(
      'sso_refused',
      'the identity provider gave no email for this user: ask an admin to add the email scope (and claim) to the Portcullis client',
    );
  }
  const email = normalizeEmail(identity.email);
  const existing = await findUserByEmail(db, email);
  if (existing) {
    if (!identity.emailVerified) {
      throw new ServiceError(
        'sso_refused',
        `a Portcullis user with the email ${email} exists, but the identity provider does not say it verified that email (email_verified), so the two are not linked: ask an admin`,
      );
    }
    return existing;
  }
  const row: UserRow = {
    id: newId('usr_'),
    email,
    name: identity.name?.trim() || email.split('@')[0] || email,
    password_hash: NO_PASSWORD,
    created_at: time,
    updated_at: time,
  };
  await db.insertInto('users').values(row).execute();
  return row;
}

/** Makes the user's memberships of the mapped projects what their groups say; returns the projects lost or demoted in. */
async function syncMemberships(
  db: Kysely<Database>,
  user: UserRow,
  mapped: Set<string>,
  wanted: Map<string, Role>,
  groups: string[],
  time: string,
): Promise<string[]> {
  if (mapped.size === 0) return [];
  const current = await db
    .selectFrom('project_members')
    .select(['project_id', 'role'])
    .where('user_id', '=', user.id)
    .where('project_id', 'in', [...mapped])
    .execute();
  const have = new Map(current.map((row) => [row.project_id, row.role]));
  const lost: string[] = [];
  const audit = (projectId: string, action: (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS], details: Record<string, unknown>) =>
    recordAudit(db, time, {
      projectId,
      actor: null,
      action,
      targetType: 'user',
      targetId: user.id,
      details: { email: user.email, source: 'sso', groups, ...details },
    });
  for (const projectId of mapped) {
    const before = have.get(projectId);
    const after = wanted.get(projectId);
    if (before === after) continue;
    if (!before && after) {
      await db.insertInto('project_members').values({ project_id: projectId, user_id: user.id, role: after, created_at: time }).execute();
      await audit(projectId, AUDIT_ACTIONS.memberAdded, { role: after });
    } else if (before && !after) {
      await db.deleteFrom('project_members').where('project_id', '=', projectId).where('user_id', '=', user.id).execute();
      await audit(projectId, AUDIT_ACTIONS.memberRemoved, { role: before });
      lost.push(projectId);
    } else if (before && after) {
      await db
        .updateTable('project_members')
        .set({ role: after })
        .where('project_id', '=', projectId)
        .where('user_id', '=', user.id)
        .execute();
      await audit(projectId, AUDIT_ACTIONS.memberUpdated, { role: after, was: before });
      if (before === 'admin') lost.push(projectId);
    }
  }
  return lost;
}

function noProjects(identity: VerifiedIdentity, groups: string[]): ServiceError {
  const who = identity.email ?? identity.subject;
  const list = groups.length ? groups.join(', ') : 'none';
  return new ServiceError(
    'sso_refused',
    `${who} is in no group that gives access to a Portcullis project (groups from the identity provider: ${list}): ask an admin to add you to a mapped group`,
  );
}
