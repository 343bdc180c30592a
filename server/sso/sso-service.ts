/**
 * Single sign-on flows: a client (CLI, extension, web console) sends the browser to `/auth/sso/start` with where
 * to come back and a PKCE challenge of its own; the server sends it on to the provider, checks the provider's answer
 * at `/auth/sso/callback`, signs the user in (./sso-sign-in) and sends the browser back with a one-time code that
 * the client exchanges, with its verifier, for a sign-in token. The device variant has no way back: the client polls
 * with its device code while the user finishes in any browser. Flows live in the database, so any replica can
 * take any step.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { SignInMethodsDto, SsoDeviceStartDto, SsoLoginResponse, SsoTokenRequest } from '../../protocol/api';
import { issueSignInToken } from '../auth/sign-in';
import { AUDIT_ACTIONS, recordAudit } from '../services/audit';
import type { Actor, ServiceContext } from '../services/context';
import { ServiceError } from '../services/service-error';
import { findUserById, toUserDto } from '../services/users';
import { newId } from '../store/ids';
import { redirectProblem, withAnswer } from './client-redirects';
import { OidcRelyingParty, SsoRefusal, type VerifiedIdentity } from './oidc-relying-party';
import type { SsoConfig } from './sso-config';
import { ssoDb } from './sso-schema';
import { signInIdentity } from './sso-sign-in';

/** A sign-in has this long from the first redirect to the token's collection. */
export const SSO_FLOW_SECONDS = 600;
export const DEVICE_POLL_SECONDS = 2;
// RFC 8628 section 6.1: consonants only, so no word is spelled and no letter is mistaken for a digit.
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

/** Where the browser goes next: a redirect, or (device sign-ins, early failures) a page of text. */
export type BrowserAnswer = { redirect: string } | { page: { status: number; title: string; text: string } };

export interface SsoServiceDeps {
  ctx: ServiceContext;
  settings: SsoConfig;
  /** Key the flows' PKCE verifiers and nonces are derived from. */
  flowKey: Buffer;
  /** Ends the user's active sessions in projects they lost. */
  endSessions(userId: string, projectId: string): Promise<void>;
}

export class SsoService {
  readonly rp: OidcRelyingParty;

  constructor(private readonly deps: SsoServiceDeps) {
    this.rp = new OidcRelyingParty(deps.settings, deps.flowKey, deps.ctx.now);
  }

  methods(): SignInMethodsDto {
    const s = this.deps.settings;
    return { password: s.passwordSignIn, sso: { enabled: true, name: s.displayName, idpMfaAccepted: s.acceptIdpMfa } };
  }

  /** `GET /auth/sso/start`: a new redirect flow; the browser goes to the provider. */
  async start(input: {
    redirectUri: string;
    codeChallenge: string;
    clientState?: string;
    callbackUrl: string;
    /** This server's own origin (the web console's): allowed besides the listed ones. */
    ownOrigin: string;
  }): Promise<string> {
    const problem = redirectProblem(input.redirectUri, [...this.deps.settings.redirectOrigins, input.ownOrigin]);
    if (problem) throw new ServiceError('bad_request', problem);
    const { id } = await this.insertFlow({
      kind: 'redirect',
      redirect_uri: input.redirectUri,
      client_state: input.clientState,
      code_challenge: input.codeChallenge,
      idp_redirect_uri: input.callbackUrl,
    });
    return this.authorizationUrl(id, input.callbackUrl);
  }

  /** `POST /auth/sso/device`: a flow the client follows by polling. */
  async startDevice(verificationBase: string): Promise<SsoDeviceStartDto> {
    const deviceCode = `pcd_${randomBytes(32).toString('base64url')}`;
    const userCode = newUserCode();
    const row = await this.insertFlow({ kind: 'device', device_code_hash: sha256(deviceCode), user_code: userCode });
    return {
      deviceCode,
      userCode,
      verificationUrl: `${verificationBase}?user_code=${encodeURIComponent(userCode)}`,
      expiresAt: row.expires_at,
      intervalSeconds: DEVICE_POLL_SECONDS,
    };
  }

  /** `GET /auth/sso/device/verify?user_code=`: the browser of a device flow goes to the provider. */
  async verifyDevice(userCode: string, callbackUrl: string): Promise<BrowserAnswer> {
    const code = userCode.trim().toUpperCase();
    const flow = await ssoDb(this.deps.ctx.store.db).selectFrom('sso_flows').selectAll().where('user_code', '=', code).executeTakeFirst();
    if (flow?.state !== 'started' || this.expired(flow)) {
      return page(
        400,
        'Unknown or expired code',
        `The code ${code} is unknown, used or expired. Run portcullis login --sso --device again for a new one.`,
      );
    }
    await ssoDb(this.deps.ctx.store.db).updateTable('sso_flows').set({ idp_redirect_uri: callbackUrl }).where('id', '=', flow.id).execute();
    return { redirect: await this.authorizationUrl(flow.id, callbackUrl) };
  }

  /** `GET /auth/sso/callback`: the provider sent the browser back. */
  async callback(url: URL, userAgent?: string): Promise<BrowserAnswer> {
    const db = ssoDb(this.deps.ctx.store.db);
    const state = url.searchParams.get('state') ?? '';
    const flow = state ? await db.selectFrom('sso_flows').selectAll().where('id', '=', state).executeTakeFirst() : undefined;
    if (!flow) {
      throw new ServiceError('sso_refused', 'this single sign-on is unknown to the server (no or wrong state): start the sign-in again');
    }
    // The flow is claimed before the provider is asked: a replayed callback (the same code again) is refused here.
    const claimed = await db
      .updateTable('sso_flows')
      .set({ state: 'failed', error_code: 'sso_refused', error_message: 'the sign-in is being finished' })
      .where('id', '=', flow.id)
      .where('state', '=', 'started')
      .where('expires_at', '>', this.deps.ctx.now().toISOString())
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) {
      throw new ServiceError(
        'sso_refused',
        this.expired(flow)
          ? 'this single sign-on expired before the identity provider answered: start the sign-in again'
          : 'this single sign-on was already finished (the answer was replayed): start the sign-in again',
      );
    }
    let outcome: { userId: string; idpMfaAt: string | null } | { error: ServiceError };
    try {
      const identity = await this.rp.finish(flow.id, this.withRegisteredBase(url, flow));
      outcome = await this.signIn(identity, userAgent);
    } catch (error) {
      if (error instanceof SsoRefusal) outcome = { error: new ServiceError('sso_refused', error.message) };
      else if (error instanceof ServiceError) outcome = { error };
      else throw error;
    }
    const resultCode = flow.kind === 'redirect' ? `pcs_${randomBytes(32).toString('base64url')}` : null;
    await db
      .updateTable('sso_flows')
      .set(
        'error' in outcome
          ? {
              state: 'failed',
              error_code: outcome.error.code,
              error_message: outcome.error.message,
              result_code_hash: resultCode && sha256(resultCode),
            }
          : {
              state: 'signed_in',
              error_code: null,
              error_message: null,
              user_id: outcome.userId,
              idp_mfa_at: outcome.idpMfaAt,
              result_code_hash: resultCode && sha256(resultCode),
            },
      )
      .where('id', '=', flow.id)
      .execute();
    if (flow.kind === 'device') {
      return 'error' in outcome
        ? page(403, 'Sign-in refused', `${outcome.error.message}. Your terminal shows this too.`)
        : page(
            200,
            'Signed in',
            `You are signed in to Portcullis with the code ${flow.user_code}. You can close this page and return to your terminal.`,
          );
    }
    // The client learns a failure from the code too (POST /auth/sso/token answers the error), so every client
    // handles one path; `error` lets a browser page show it at once.
    return {
      redirect: withAnswer(flow.redirect_uri ?? '', {
        code: resultCode,
        state: flow.client_state,
        error: 'error' in outcome ? outcome.error.code : null,
      }),
    };
  }

  /**
   * `POST /auth/sso/token`: the client collects its sign-in, once. `secondFactor` (the web console's authenticator
   * code) runs before the code is spent, so a refusal such as `mfa_required` leaves it good for the next try.
   */
  async exchange(
    request: SsoTokenRequest,
    userAgent?: string,
    secondFactor?: (user: Actor, idpMfa: boolean) => Promise<void>,
  ): Promise<SsoLoginResponse> {
    const db = ssoDb(this.deps.ctx.store.db);
    const byDevice = 'deviceCode' in request;
    const flow = await db
      .selectFrom('sso_flows')
      .selectAll()
      .where(byDevice ? 'device_code_hash' : 'result_code_hash', '=', sha256(byDevice ? request.deviceCode : request.code))
      .executeTakeFirst();
    if (!flow) throw new ServiceError('sso_refused', 'this sign-in code is unknown: start the sign-in again');
    if (!byDevice && !pkceMatches(request.codeVerifier, flow.code_challenge)) {
      throw new ServiceError('sso_refused', 'the code verifier does not match this sign-in (PKCE): start the sign-in again');
    }
    if (flow.state === 'used')
      throw new ServiceError('sso_refused', 'this sign-in was already collected (a code is good once): start the sign-in again');
    if (this.expired(flow)) throw new ServiceError('sso_refused', 'this sign-in expired: start it again');
    if (flow.state === 'started') {
      throw new ServiceError('sso_pending', 'the sign-in is not finished yet: open the verification address in a browser and sign in');
    }
    if (secondFactor && flow.state === 'signed_in' && flow.user_id) {
      const user = await findUserById(this.deps.ctx.store.db, flow.user_id);
      if (user) await secondFactor({ userId: user.id, email: user.email }, flow.idp_mfa_at !== null);
    }
    const used = await db
      .updateTable('sso_flows')
      .set({ state: 'used' })
      .where('id', '=', flow.id)
      .where('state', '=', flow.state)
      .executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1)
      throw new ServiceError('sso_refused', 'this sign-in was already collected: start the sign-in again');
    if (flow.state === 'failed') throw new ServiceError('sso_refused', flow.error_message ?? 'the single sign-on was refused');
    const user = flow.user_id ? await findUserById(this.deps.ctx.store.db, flow.user_id) : undefined;
    if (!user) throw new ServiceError('sso_refused', 'the user of this sign-in no longer exists: ask an admin');
    const issued = await issueSignInToken(this.deps.ctx, user, {
      userAgent,
      idpMfaAt: flow.idp_mfa_at,
      details: { method: 'sso', idpMfa: flow.idp_mfa_at !== null },
    });
    return { ...issued, user: toUserDto(user), idpMfa: flow.idp_mfa_at !== null };
  }

  private async signIn(identity: VerifiedIdentity, _userAgent?: string): Promise<{ userId: string; idpMfaAt: string | null }> {
    const result = await signInIdentity(this.deps.ctx, this.deps.settings, identity);
    for (const projectId of result.lostProjectIds) await this.deps.endSessions(result.user.id, projectId);
    const time = this.deps.ctx.now().toISOString();
    if (result.refusal) {
      await recordAudit(this.deps.ctx.store.db, time, {
        projectId: null,
        actor: { userId: result.user.id, email: result.user.email },
        action: AUDIT_ACTIONS.signInFailed,
        targetType: 'user',
        targetId: result.user.id,
        details: { method: 'sso', why: 'no mapped group', tokensRevoked: result.lostProjectIds.length > 0 },
      });
      throw result.refusal;
    }
    return { userId: result.user.id, idpMfaAt: this.idpMfaAt(identity) };
  }

  /** When the provider's MFA counts (accepted by the admin, and asserted in amr or acr): its authentication time. */
  private idpMfaAt(identity: VerifiedIdentity): string | null {
    const s = this.deps.settings;
    if (!s.acceptIdpMfa) return null;
    const asserted = identity.amr.some((m) => s.mfaAmr.includes(m)) || (identity.acr !== null && s.mfaAcr.includes(identity.acr));
    return asserted ? identity.authTime.toISOString() : null;
  }

  private async authorizationUrl(flowId: string, callbackUrl: string): Promise<string> {
    try {
      return await this.rp.authorizationUrl(flowId, callbackUrl);
    } catch (error) {
      if (error instanceof SsoRefusal) throw new ServiceError('unavailable', error.message);
      throw error;
    }
  }

  /** The callback URL as the provider was told it (the browser may have reached this replica by another name). */
  private withRegisteredBase(url: URL, flow: { idp_redirect_uri: string | null }): URL {
    if (!flow.idp_redirect_uri) return url;
    const registered = new URL(flow.idp_redirect_uri);
    registered.search = url.search;
    return registered;
  }

  private expired(flow: { expires_at: string }): boolean {
    return Date.parse(flow.expires_at) <= this.deps.ctx.now().getTime();
  }

  private async insertFlow(values: NewFlow) {
    const now = this.deps.ctx.now();
    const row = {
      id: newId('sso_'),
      kind: values.kind,
      state: 'started' as const,
      redirect_uri: values.redirect_uri ?? null,
      client_state: values.client_state ?? null,
      code_challenge: values.code_challenge ?? null,
      idp_redirect_uri: values.idp_redirect_uri ?? null,
      device_code_hash: values.device_code_hash ?? null,
      user_code: values.user_code ?? null,
      result_code_hash: null,
      user_id: null,
      idp_mfa_at: null,
      error_code: null,
      error_message: null,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + SSO_FLOW_SECONDS * 1000).toISOString(),
    };
    const db = ssoDb(this.deps.ctx.store.db);
    // Flows past their time are of no use to anyone: each new one sweeps them.
    await db
      .deleteFrom('sso_flows')
      .where('expires_at', '<', new Date(now.getTime() - SSO_FLOW_SECONDS * 1000).toISOString())
      .execute();
    await db.insertInto('sso_flows').values(row).execute();
    return row;
  }
}

/** What a flow starts with; the rest is filled in as it goes. */
type NewFlow = { kind: 'redirect' | 'device' } & Partial<
  Record<'redirect_uri' | 'client_state' | 'code_challenge' | 'idp_redirect_uri' | 'device_code_hash' | 'user_code', string>
>;

function page(status: number, title: string, text: string): BrowserAnswer {
  return { page: { status, title, text } };
}

function newUserCode(): string {
  let code = '';
  for (let i = 0; i < 8; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** RFC 7636 S256: base64url(SHA-256(verifier)) equals the challenge. */
function pkceMatches(verifier: string, challenge: string | null): boolean {
  if (!challenge) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
