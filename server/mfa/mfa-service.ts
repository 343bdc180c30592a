/**
 * Multi-factor authentication: TOTP enrollment, the per-project policy, and the challenges an access request to an
 * MFA-required account must pass before a session (and so the account's credentials) exists.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  type AccessMfaChallenge,
  API_ERROR_CODES,
  type MfaMethod,
  type MfaPolicyDto,
  type MfaStatusDto,
  type TotpEnrollmentDto,
} from '../../protocol/api';
import { deriveKey } from '../secrets/derive-key';
import { decryptSecret, encryptSecret, fieldAad } from '../secrets/envelope';
import { AUDIT_ACTIONS, type AuditEntry, recordAudit } from '../services/audit';
import type { Actor } from '../services/context';
import { ServiceError } from '../services/service-error';
import type { Store } from '../store/store';
import type { EmailSender } from './email-sender';
import { chooseMfaMethod, maskEmail } from './method-choice';
import { type MfaDatabase, mfaDb } from './mfa-schema';
import { codeMatches, hashCode, newNumericCode, normalizeCode } from './one-time-code';
import { SMTP_ENV } from './smtp-config';
import { matchTotpStep, newTotpSecret, totpUri } from './totp';

export const MFA_LIMITS = Object.freeze({
  challengeTtlSeconds: 5 * 60,
  /** Wrong codes one challenge takes before it is void. */
  attemptsPerChallenge: 5,
  /** Wrong codes per user, over all challenges, enrollment and removal, within `windowSeconds`. */
  failuresPerUser: 10,
  /** Challenges one user may be issued within `windowSeconds` (each email challenge sends a message). */
  challengesPerUser: 20,
  windowSeconds: 15 * 60,
});

/** The account an access request is for, as the MFA checks need it. */
export interface MfaAccount {
  id: string;
  projectId: string;
  /** Shown in the email, e.g. `orders-db / readonly`. */
  label: string;
}

export interface MfaServiceOptions {
  store: Store;
  /** 32 secret bytes, `deriveKey(rootKey, 'mfa')`: TOTP secrets are encrypted and email codes hashed under keys derived from it. */
  key: Buffer;
  /** How email codes leave; null when no SMTP server is configured (email MFA then fails with a clear error). */
  email: EmailSender | null;
  /** Issuer shown in authenticator apps. */
  issuer?: string;
  now?: () => Date;
}

const C = API_ERROR_CODES;

export class MfaService {
  private readonly db: Kysely<MfaDatabase>;
  private readonly secretKey: Buffer;
  private readonly codeKey: Buffer;
  private readonly now: () => Date;
  private readonly issuer: string;

  constructor(private readonly options: MfaServiceOptions) {
    this.db = mfaDb(options.store.db);
    // Separate keys for separate jobs, so neither use can help attack the other.
    this.secretKey = deriveKey(options.key, 'mfa-totp-secret');
    this.codeKey = deriveKey(options.key, 'mfa-email-code');
    this.now = options.now ?? (() => new Date());
    this.issuer = options.issuer ?? 'Portcullis';
  }

  get emailAvailable(): boolean {
    return this.options.email !== null;
  }

  // ---- status and enrollment ----

  async status(actor: Actor): Promise<MfaStatusDto> {
    const totp = await this.totpRow(actor.userId);
    const projects = await this.db
      .selectFrom('project_members')
      .innerJoin('projects', 'projects.id', 'project_members.project_id')
      .select(['projects.id', 'projects.name', 'projects.mfa_enforced_method'])
      .where('project_members.user_id', '=', actor.userId)
      .orderBy('projects.name')
      .execute();
    const totpConfirmed = Boolean(totp?.confirmed_at);
    return {
      totp: { enrolled: totpConfirmed, pending: Boolean(totp && !totp.confirmed_at), confirmedAt: totp?.confirmed_at ?? null },
      email: { available: this.emailAvailable, sentTo: maskEmail(actor.email) },
      projects: projects.map((p) => ({
        projectId: p.id,
        name: p.name,
        enforcedMethod: p.mfa_enforced_method,
        effectiveMethod: chooseMfaMethod({ enforced: p.mfa_enforced_method, totpConfirmed }),
      })),
    };
  }

  /** A new pending secret; it replaces a pending one, never a confirmed one (remove that first, with a code). */
  async startTotpEnrollment(actor: Actor): Promise<TotpEnrollmentDto> {
    const existing = await this.totpRow(actor.userId);
    if (existing?.confirmed_at) {
      throw new ServiceError(
        C.conflict,
        'an authenticator app is already set up for you: remove it first (portcullis mfa remove totp, with a current code), then enroll again',
      );
    }
    const secret = newTotpSecret();
    const secretEnc = encryptSecret(this.secretKey, secret, totpAad(actor.userId));
    const createdAt = this.nowIso();
    if (existing) {
      await this.db
        .updateTable('user_totp')
        .set({ secret_enc: secretEnc, created_at: createdAt, last_used_step: null })
        .where('user_id', '=', actor.userId)
        .where('confirmed_at', 'is', null)
        .execute();
    } else {
      await this.db
        .insertInto('user_totp')
        .values({ user_id: actor.userId, secret_enc: secretEnc, confirmed_at: null, last_used_step: null, created_at: createdAt })
        .execute();
    }
    return { secret, uri: totpUri(secret, actor.email, this.issuer) };
  }

  async confirmTotpEnrollment(actor: Actor, code: string): Promise<MfaStatusDto> {
    const row = await this.totpRow(actor.userId);
    if (!row)
      throw new ServiceError(C.conflict, 'no authenticator app enrollment is in progress: start one with portcullis mfa enroll totp');
    if (row.confirmed_at) throw new ServiceError(C.conflict, 'your authenticator app is already confirmed');
    await this.checkTotpCode(actor, row.secret_enc, code, 'confirm');
    await this.db.updateTable('user_totp').set({ confirmed_at: this.nowIso() }).where('user_id', '=', actor.userId).execute();
    await this.audit({ projectId: null, actor, action: AUDIT_ACTIONS.mfaTotpEnrolled, targetType: 'user', targetId: actor.userId });
    return this.status(actor);
  }

  /** Removes the authenticator app (confirmed or pending) after a valid current code from it. */
  async removeTotp(actor: Actor, code: string): Promise<MfaStatusDto> {
    const row = await this.totpRow(actor.userId);
    if (!row) throw new ServiceError(C.notFound, 'you have no authenticator app set up');
    await this.checkTotpCode(actor, row.secret_enc, code, 'remove');
    await this.db.deleteFrom('user_totp').where('user_id', '=', actor.userId).execute();
    await this.audit({ projectId: null, actor, action: AUDIT_ACTIONS.mfaTotpRemoved, targetType: 'user', targetId: actor.userId });
    return this.status(actor);
  }

  /**
   * The web console's second sign-in step: nothing for a user without a confirmed authenticator app; otherwise a
   * current, unused code from it (`mfa_required` without one, `mfa_invalid` for a wrong one, counted like others).
   */
  async checkSignInCode(actor: Actor, code: string | undefined): Promise<void> {
    const row = await this.totpRow(actor.userId);
    if (!row?.confirmed_at) return;
    if (code === undefined || code.trim() === '') {
      throw new ServiceError(C.mfaRequired, 'enter the 6-digit code your authenticator app shows for Portcullis');
    }
    await this.checkTotpCode(actor, row.secret_enc, code, 'sign-in');
  }

  // ---- policy ----

  /** Sets the project's enforced method; the caller has checked that the actor is an admin of the project. */
  async setPolicy(actor: Actor, projectId: string, enforcedMethod: MfaMethod | null): Promise<MfaPolicyDto> {
    if (enforcedMethod === 'email' && !this.emailAvailable) {
      throw new ServiceError(C.mfaNotConfigured, emailUnavailableMessage());
    }
    const before = await this.db.selectFrom('projects').select('mfa_enforced_method').where('id', '=', projectId).executeTakeFirst();
    if (!before) throw new ServiceError(C.notFound, 'project not found');
    await this.db.updateTable('projects').set({ mfa_enforced_method: enforcedMethod }).where('id', '=', projectId).execute();
    await this.audit({
      projectId,
      actor,
      action: AUDIT_ACTIONS.mfaPolicyChanged,
      targetType: 'project',
      targetId: projectId,
      details: { from: before.mfa_enforced_method, to: enforcedMethod },
    });
    return { enforcedMethod };
  }

  async getPolicy(projectId: string): Promise<MfaPolicyDto> {
    const row = await this.db.selectFrom('projects').select('mfa_enforced_method').where('id', '=', projectId).executeTakeFirst();
    if (!row) throw new ServiceError(C.notFound, 'project not found');
    return { enforcedMethod: row.mfa_enforced_method };
  }

  // ---- challenges ----

  /** Issues a challenge for access to an MFA-required account; for email, sends the code now. */
  async challenge(actor: Actor, account: MfaAccount): Promise<AccessMfaChallenge> {
    await this.refuseWhenLockedOut(actor.userId);
    const now = this.now();
    const recent = await this.db
      .selectFrom('mfa_challenges')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', actor.userId)
      .where('created_at', '>', windowStart(now))
      .executeTakeFirstOrThrow();
    if (Number(recent.n) >= MFA_LIMITS.challengesPerUser) {
      throw new ServiceError(C.rateLimited, 'too many MFA challenges in the last 15 minutes: wait a few minutes, then try again', 300);
    }

    const project = await this.db
      .selectFrom('projects')
      .select('mfa_enforced_method')
      .where('id', '=', account.projectId)
      .executeTakeFirstOrThrow();
    const totp = await this.totpRow(actor.userId);
    const method = chooseMfaMethod({ enforced: project.mfa_enforced_method, totpConfirmed: Boolean(totp?.confirmed_at) });
    if (method === 'totp' && !totp?.confirmed_at) {
      throw new ServiceError(
        C.mfaNotConfigured,
        'this project requires an authenticator app (TOTP) for MFA and you have not set one up: run `portcullis mfa enroll totp` ' +
          '(or "Portcullis: Set Up Authenticator App" in VS Code), then request access again',
      );
    }
    if (method === 'email' && !this.options.email) throw new ServiceError(C.mfaNotConfigured, emailUnavailableMessage());

    const id = `mfc_${randomBytes(16).toString('base64url')}`;
    const expiresAt = new Date(now.getTime() + MFA_LIMITS.challengeTtlSeconds * 1000);
    const code = method === 'email' ? newNumericCode() : null;
    await this.db
      .insertInto('mfa_challenges')
      .values({
        id,
        user_id: actor.userId,
        project_id: account.projectId,
        account_id: account.id,
        method,
        code_hash: code ? hashCode(this.codeKey, id, code) : null,
        created_at: now.toISOString(),
        expires_at: expiresAt.toISOString(),
        state: 'pending',
        finished_at: null,
      })
      .execute();

    const challenge: AccessMfaChallenge = { kind: 'mfa', challengeId: id, method, expiresAt: expiresAt.toISOString() };
    if (code && this.options.email) {
      try {
        await this.options.email.sendCode({ to: actor.email, code, expiresAt, accessLabel: account.label });
      } catch (error) {
        await this.finish(id, 'void');
        // The SMTP error can name hosts and users; it is not for the API client. The operator sees the cause's code.
        const reason = (error as NodeJS.ErrnoException).code ?? (error as { responseCode?: number }).responseCode ?? 'unknown error';
        throw new ServiceError(
          C.internal,
          `the MFA code could not be sent by email (${reason}): try again, or ask an admin to check the control plane's SMTP settings`,
        );
      }
      challenge.sentTo = maskEmail(actor.email);
    }
    await this.audit({
      projectId: account.projectId,
      actor,
      action: AUDIT_ACTIONS.mfaChallengeIssued,
      targetType: 'account',
      targetId: account.id,
      details: { challengeId: id, method },
    });
    return challenge;
  }

  /**
   * Checks the answer to a challenge. Resolves with the method when the code is right (the challenge is then used up);
   * throws mfa_invalid (wrong code, with the attempts left), mfa_expired (expired, used, void, or not this user's and
   * account's challenge) or rate_limited.
   */
  async verify(actor: Actor, account: MfaAccount, answer: { challengeId: string; code: string }): Promise<{ method: MfaMethod }> {
    const challenge = await this.db.selectFrom('mfa_challenges').selectAll().where('id', '=', answer.challengeId).executeTakeFirst();
    if (!challenge || challenge.user_id !== actor.userId || challenge.account_id !== account.id) {
      throw new ServiceError(C.mfaExpired, 'this MFA challenge is not valid for this access request: request access again for a new one');
    }
    if (challenge.state !== 'pending') {
      throw new ServiceError(
        C.mfaExpired,
        challenge.state === 'passed'
          ? 'this MFA challenge was already used: request access again for a new one'
          : 'this MFA challenge is void after too many wrong codes: request access again for a new one',
      );
    }
    if (this.now().toISOString() >= challenge.expires_at) {
      await this.finish(challenge.id, 'void');
      throw new ServiceError(C.mfaExpired, 'this MFA challenge expired (they last 5 minutes): request access again for a new one');
    }
    await this.refuseWhenLockedOut(actor.userId);
    const code = normalizeCode(answer.code);
    if (code === null)
      throw new ServiceError(C.mfaInvalid, 'the code is 6 digits: check it and try again (this did not count as an attempt)');

    let wrong: string | null = null;
    if (challenge.method === 'email') {
      if (!challenge.code_hash || !codeMatches(this.codeKey, challenge.id, code, challenge.code_hash)) wrong = 'wrong code';
    } else {
      const totp = await this.totpRow(actor.userId);
      if (!totp?.confirmed_at) wrong = 'your authenticator app was removed';
      else wrong = await this.useTotpCode(actor.userId, totp.secret_enc, code);
    }
    if (wrong) return this.failAttempt(actor, account, challenge.id, wrong);

    // Only one request can turn a pending challenge into a passed one.
    const passed = await this.finish(challenge.id, 'passed');
    if (!passed) throw new ServiceError(C.mfaExpired, 'this MFA challenge was already used: request access again for a new one');
    await this.audit({
      projectId: account.projectId,
      actor,
      action: AUDIT_ACTIONS.mfaChallengePassed,
      targetType: 'account',
      targetId: account.id,
      details: { challengeId: challenge.id, method: challenge.method },
    });
    return { method: challenge.method };
  }

  /** For the email text: the name of the resource an account belongs to. */
  async resourceName(resourceId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('resources').select('name').where('id', '=', resourceId).executeTakeFirst();
    return row?.name;
  }

  // ---- internals ----

  private async failAttempt(actor: Actor, account: MfaAccount, challengeId: string, reason: string): Promise<never> {
    await this.recordFailure(actor.userId, 'access');
    await this.db
      .updateTable('mfa_challenges')
      .set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
      .where('id', '=', challengeId)
      .where('state', '=', 'pending')
      .execute();
    const row = await this.db
      .selectFrom('mfa_challenges')
      .select('failed_attempts')
      .where('id', '=', challengeId)
      .executeTakeFirstOrThrow();
    const left = MFA_LIMITS.attemptsPerChallenge - row.failed_attempts;
    if (left <= 0) await this.finish(challengeId, 'void');
    await this.audit({
      projectId: account.projectId,
      actor,
      action: AUDIT_ACTIONS.mfaChallengeFailed,
      targetType: 'account',
      targetId: account.id,
      details: { challengeId, reason, attemptsLeft: Math.max(0, left) },
    });
    if (left <= 0) {
      throw new ServiceError(
        C.mfaExpired,
        `${reason}: that was the last of ${MFA_LIMITS.attemptsPerChallenge} attempts, so this challenge is void; request access again for a new one`,
      );
    }
    throw new ServiceError(C.mfaInvalid, `${reason}: ${left} ${left === 1 ? 'attempt' : 'attempts'} left, try again`);
  }

  /** Null when the code is valid and of a time step after the last one used; otherwise why not. */
  private async useTotpCode(userId: string, secretEnc: string, code: string): Promise<string | null> {
    const secret = decryptSecret(this.secretKey, secretEnc, totpAad(userId));
    const step = matchTotpStep(secret, code, this.now());
    if (step === null) return 'wrong code';
    // Conditional update: of two requests with the same code, only one moves the step forward.
    const result = await this.db
      .updateTable('user_totp')
      .set({ last_used_step: step })
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return 'this code was already used: wait for the next code in your authenticator app';
    return null;
  }

  /** For enrollment and removal: a valid, unused code, or mfa_invalid (counted towards the per-user limit). */
  private async checkTotpCode(actor: Actor, secretEnc: string, input: string, context: 'confirm' | 'remove' | 'sign-in'): Promise<void> {
    await this.refuseWhenLockedOut(actor.userId);
    const code = normalizeCode(input);
    if (code === null) throw new ServiceError(C.mfaInvalid, 'the code is 6 digits: check it and try again');
    const wrong = await this.useTotpCode(actor.userId, secretEnc, code);
    if (wrong) {
      await this.recordFailure(actor.userId, context);
      throw new ServiceError(
        C.mfaInvalid,
        `${wrong}: use the current code your authenticator app shows for Portcullis (check that the phone's clock is right)`,
      );
    }
  }

  private async refuseWhenLockedOut(userId: string): Promise<void> {
    const now = this.now();
    const failures = await this.db
      .selectFrom('mfa_failures')
      .select('time')
      .where('user_id', '=', userId)
      .where('time', '>', windowStart(now))
      .orderBy('time', 'asc')
      .execute();
    if (failures.length < MFA_LIMITS.failuresPerUser) return;
    // Free again when the oldest failure that keeps the count at the limit leaves the window.
    const oldest = new Date(failures[failures.length - MFA_LIMITS.failuresPerUser].time);
    const retryAfter = Math.max(1, Math.ceil((oldest.getTime() + MFA_LIMITS.windowSeconds * 1000 - now.getTime()) / 1000));
    throw new ServiceError(
      C.rateLimited,
      `too many wrong MFA codes: try again in ${Math.ceil(retryAfter / 60)} minutes (the codes in your authenticator app or email are the ones to use)`,
      retryAfter,
    );
  }

  private async recordFailure(userId: string, context: string): Promise<void> {
    await this.db
      .insertInto('mfa_failures')
      .values({ id: `mff_${randomBytes(12).toString('base64url')}`, user_id: userId, time: this.nowIso(), context })
      .execute();
  }

  private async finish(challengeId: string, state: 'passed' | 'void'): Promise<boolean> {
    const result = await this.db
      .updateTable('mfa_challenges')
      .set({ state, finished_at: this.nowIso() })
      .where('id', '=', challengeId)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  private totpRow(userId: string) {
    return this.db.selectFrom('user_totp').selectAll().where('user_id', '=', userId).executeTakeFirst();
  }

  private audit(entry: AuditEntry): Promise<void> {
    return recordAudit(this.options.store.db, this.nowIso(), entry);
  }

  private nowIso(): string {
    return this.now().toISOString();
  }
}

function totpAad(userId: string): string {
  return fieldAad(userId, 'totp_secret');
}

function windowStart(now: Date): string {
  return new Date(now.getTime() - MFA_LIMITS.windowSeconds * 1000).toISOString();
}

export function emailUnavailableMessage(): string {
  return (
    `email MFA needs an SMTP server and none is configured: set ${SMTP_ENV.host}, ${SMTP_ENV.from} ` +
    `(and ${SMTP_ENV.port}, ${SMTP_ENV.secure}, ${SMTP_ENV.user}, ${SMTP_ENV.password} or ${SMTP_ENV.passwordFile} as needed) ` +
    'on the control plane, or set up an authenticator app with `portcullis mfa enroll totp`'
  );
}
