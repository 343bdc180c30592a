/**
 * Signing in with email and password (within the limits of ./sign-in-throttle), bearer tokens (stored as SHA-256,
 * with an expiry), and signing out.
 */
import type { Kysely } from 'kysely';
import type { LoginResponse } from '../../protocol/api';
import { AUDIT_ACTIONS, recordAudit } from '../services/audit';
import { type Actor, nowIso, type ServiceContext } from '../services/context';
import { ServiceError } from '../services/service-error';
import { findUserByEmail, normalizeEmail, toUserDto } from '../services/users';
import { newId } from '../store/ids';
import type { Database } from '../store/schema';
import { clientNetwork } from './client-network';
import { verifyAgainstNothing, verifyPassword } from './passwords';
import { hashSecretToken, newSecretToken, SECRET_PREFIXES } from './secret-tokens';
import { admitSignIn, recordSignInSuccess } from './sign-in-throttle';

const WRONG = 'wrong email or password';

// What the client reads when the limits hold its attempt back: which limit, and how long to wait.
const LIMITED: Readonly<Record<'pair' | 'account' | 'network', string>> = Object.freeze({
  pair: 'too many failed sign-ins for this email from your network',
  account: 'many failed sign-ins for this email from other networks, so sign-ins from a network it has not used recently are slowed',
  network: 'many failed sign-ins from your network, so sign-ins to emails not used from it recently are slowed',
});

export async function signIn(
  ctx: ServiceContext,
  input: { email: string; password: string; clientAddress: string; userAgent?: string },
  /** Checked once the password is right, before a token exists (the console's authenticator code); throws to refuse. */
  secondFactor?: (user: Actor) => Promise<void>,
): Promise<LoginResponse> {
  if (ctx.config.sso && !ctx.config.sso.passwordSignIn) {
    throw new ServiceError(
      'password_sign_in_disabled',
      `password sign-in is turned off on this server: sign in with ${ctx.config.sso.displayName} (portcullis login --sso)`,
    );
  }
  const email = normalizeEmail(input.email);
  const attempt = { email, network: clientNetwork(input.clientAddress) };
  const admission = await admitSignIn(ctx.store, attempt, ctx.now);
  if (!admission.admitted) {
    const wait = admission.retryAfterSeconds;
    throw new ServiceError('rate_limited', `${LIMITED[admission.scope]}: try again in ${wait} ${wait === 1 ? 'second' : 'seconds'}`, wait);
  }
  const user = await findUserByEmail(ctx.store.db, email);
  const ok = user ? await verifyPassword(user.password_hash, input.password) : await verifyAgainstNothing(input.password);
  const now = ctx.now();
  const time = now.toISOString();
  if (!user || !ok) {
    // The attempt was counted as a failure when it was let through.
    await recordAudit(ctx.store.db, time, {
      projectId: null,
      actor: user ? { userId: user.id, email: user.email } : null,
      action: AUDIT_ACTIONS.signInFailed,
      targetType: 'user',
      targetId: user?.id ?? null,
      details: { email, clientAddress: input.clientAddress },
    });
    throw new ServiceError('unauthenticated', WRONG);
  }
  await recordSignInSuccess(ctx.store, attempt, admission, now);
  // After the password's success is recorded: wrong codes are limited by MFA's own per-user count, not these.
  await secondFactor?.({ userId: user.id, email: user.email });
  const { token, expiresAt } = await issueSignInToken(ctx, user, {
    userAgent: input.userAgent,
    idpMfaAt: null,
    details: { clientAddress: input.clientAddress },
  });
  return { token, expiresAt, user: toUserDto(user) };
}

/**
 * A new bearer token for a user who just proved who they are (password, or single sign-on), and the audit event
 * of the sign-in (with `details`), in one transaction. Only the token's hash is stored; `idpMfaAt` is when the
 * identity provider asserted MFA, for accounts that accept that.
 */
export async function issueSignInToken(
  ctx: ServiceContext,
  user: { id: string; email: string },
  input: { userAgent?: string; idpMfaAt: string | null; details: Record<string, unknown> },
): Promise<{ token: string; expiresAt: string }> {
  const now = ctx.now();
  const time = now.toISOString();
  const token = newSecretToken(SECRET_PREFIXES.signIn);
  const expiresAt = new Date(now.getTime() + ctx.config.tokenTtlSeconds * 1000).toISOString();
  await ctx.store.transaction(async (trx) => {
    await trx
      .insertInto('api_tokens')
      .values({
        id: newId('tok_'),
        user_id: user.id,
        token_hash: hashSecretToken(token),
        created_at: time,
        expires_at: expiresAt,
        revoked_at: null,
        last_used_at: null,
        user_agent: input.userAgent?.slice(0, 200) ?? null,
        idp_mfa_at: input.idpMfaAt,
      })
      .execute();
    await recordAudit(trx, time, {
      projectId: null,
      actor: { userId: user.id, email: user.email },
      action: AUDIT_ACTIONS.signInSucceeded,
      targetType: 'user',
      targetId: user.id,
      details: input.details,
    });
  });
  return { token, expiresAt };
}

/** Revokes every live sign-in token of a user (access lost at single sign-on, a password reset). */
export async function revokeUserTokens(db: Kysely<Database>, userId: string, time: string): Promise<number> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: time })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export interface AuthenticatedUser extends Actor {
  tokenId: string;
  /** When the identity provider asserted MFA for this token's single sign-on; null otherwise. */
  idpMfaAt: string | null;
}

/** The user a bearer token signs in, or null when it is unknown, revoked or expired. */
export async function authenticateToken(ctx: ServiceContext, token: string): Promise<AuthenticatedUser | null> {
  if (!token.startsWith(SECRET_PREFIXES.signIn)) return null;
  const row = await ctx.store.db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select([
      'api_tokens.id',
      'api_tokens.expires_at',
      'api_tokens.revoked_at',
      'api_tokens.last_used_at',
      'api_tokens.idp_mfa_at',
      'users.id as user_id',
      'users.email',
    ])
    .where('api_tokens.token_hash', '=', hashSecretToken(token))
    .executeTakeFirst();
  const now = ctx.now();
  if (!row || row.revoked_at !== null || Date.parse(row.expires_at) <= now.getTime()) return null;
  // A write per request would be wasteful: last_used_at is good to the minute.
  if (row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) > 60_000) {
    await ctx.store.db.updateTable('api_tokens').set({ last_used_at: now.toISOString() }).where('id', '=', row.id).execute();
  }
  return { tokenId: row.id, userId: row.user_id, email: row.email, idpMfaAt: row.idp_mfa_at };
}

export async function signOut(ctx: ServiceContext, tokenId: string): Promise<void> {
  await ctx.store.db
    .updateTable('api_tokens')
    .set({ revoked_at: nowIso(ctx) })
    .where('id', '=', tokenId)
    .where('revoked_at', 'is', null)
    .execute();
}
