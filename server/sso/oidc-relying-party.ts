/**
 * The control plane as an OpenID Connect relying party, on `openid-client`: discovery from the issuer URL, the
 * Authorization Code flow with PKCE (S256), and the ID token checks (signature against the provider's JWKS,
 * issuer, audience, expiry, nonce), which the library does. Nothing here is stored: the PKCE verifier and the
 * nonce of a sign-in are derived from its id with a server key, so the database holds no secret of the flow.
 */
import { createHmac } from 'node:crypto';
import * as oidc from 'openid-client';
import type { SsoConfig } from './sso-config';

/** What a valid sign-in at the provider tells the control plane. */
export interface VerifiedIdentity {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  /** The raw value of the groups claim (from the ID token, else from userinfo). */
  groupsClaim: unknown;
  /** Authentication methods (RFC 8176) and context class the provider asserted. */
  amr: string[];
  acr: string | null;
  /** When the user authenticated at the provider (`auth_time`), else when the ID token was issued. */
  authTime: Date;
}

/** A refusal of the provider's answer, with what went wrong in words a user or admin can act on. */
export class SsoRefusal extends Error {
  override name = 'SsoRefusal';
}

export class OidcRelyingParty {
  private discovered: Promise<oidc.ServerMetadata> | undefined;

  constructor(
    private readonly settings: SsoConfig,
    /** Derives the PKCE verifier and nonce of a flow (a key derived from the root key). */
    private readonly flowKey: Buffer,
    /** The control plane's clock (moved in tests): the ID token's times are checked against it. */
    private readonly now: () => Date,
  ) {}

  /** Discovery, cached once it succeeds (a provider that was down is asked again at the next sign-in). */
  discover(): Promise<oidc.ServerMetadata> {
    this.discovered ??= oidc
      .discovery(new URL(this.settings.issuer), this.settings.clientId, this.settings.clientSecret, undefined, {
        execute: this.insecure() ? [oidc.allowInsecureRequests] : [],
        timeout: 10,
      })
      .then((config) => config.serverMetadata())
      .catch((error: Error) => {
        this.discovered = undefined;
        throw new SsoRefusal(`cannot reach the identity provider at ${this.settings.issuer} (discovery failed: ${describe(error)})`);
      });
    return this.discovered;
  }

  /** A client configuration on the discovered metadata, its clock set to the control plane's (which tests move). */
  private async configuration(): Promise<oidc.Configuration> {
    const metadata = await this.discover();
    const config = new oidc.Configuration(metadata, this.settings.clientId, {
      client_secret: this.settings.clientSecret,
      [oidc.clockSkew]: Math.round((this.now().getTime() - Date.now()) / 1000),
    });
    config.timeout = 10;
    if (this.insecure()) oidc.allowInsecureRequests(config);
    // The ID token's signature is checked against the provider's JWKS even though it came straight from the token
    // endpoint (OIDC Core 3.1.3.7 would let TLS stand in for it): a proxy or a compromised path cannot forge one.
    oidc.enableNonRepudiationChecks(config);
    return config;
  }

  /** Plain http is accepted for a loopback issuer only (sso-config refuses any other). */
  private insecure(): boolean {
    return new URL(this.settings.issuer).protocol === 'http:';
  }

  /** The provider's authorization URL for this flow. */
  async authorizationUrl(flowId: string, callbackUrl: string): Promise<string> {
    const config = await this.configuration();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: callbackUrl,
      scope: this.settings.scopes.join(' '),
      response_type: 'code',
      state: flowId,
      nonce: this.derive('nonce', flowId),
      code_challenge: await oidc.calculatePKCECodeChallenge(this.derive('pkce', flowId)),
      code_challenge_method: 'S256',
    });
    return url.href;
  }

  /**
   * Exchanges the code the provider sent to the callback and validates the ID token. `callbackUrl` is the full URL
   * the browser came back on (its query has `code` and `state`). Throws SsoRefusal with the reason.
   */
  async finish(flowId: string, callbackUrl: URL): Promise<VerifiedIdentity> {
    const config = await this.configuration();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: this.derive('pkce', flowId),
        expectedState: flowId,
        expectedNonce: this.derive('nonce', flowId),
        idTokenExpected: true,
      });
    } catch (error) {
      throw new SsoRefusal(refusalText(error));
    }
    const claims = tokens.claims();
    if (!claims) throw new SsoRefusal('the identity provider answered without an ID token');
    let merged: Record<string, unknown> = { ...claims };
    // Many providers put email and groups in userinfo rather than the ID token; ask there for what is missing.
    if ((merged[this.settings.groupsClaim] === undefined || merged.email === undefined) && tokens.access_token) {
      try {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
        merged = { ...info, ...merged };
      } catch (error) {
        throw new SsoRefusal(`the identity provider's userinfo could not be read: ${describe(error)}`);
      }
    }
    const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : claims.iat;
    return {
      issuer: claims.iss,
      subject: claims.sub,
      email: typeof merged.email === 'string' ? merged.email : null,
      emailVerified: merged.email_verified === true,
      name: typeof merged.name === 'string' ? merged.name : null,
      groupsClaim: merged[this.settings.groupsClaim],
      amr: Array.isArray(claims.amr) ? claims.amr.filter((v): v is string => typeof v === 'string') : [],
      acr: typeof claims.acr === 'string' ? claims.acr : null,
      authTime: new Date(authTime * 1000),
    };
  }

  private derive(purpose: 'pkce' | 'nonce', flowId: string): string {
    return createHmac('sha256', this.flowKey).update(`${purpose}:${flowId}`).digest('base64url');
  }
}

/** What the library's error means, for the person signing in. */
function refusalText(error: unknown): string {
  if (error instanceof oidc.AuthorizationResponseError) {
    return `the identity provider refused the sign-in: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`;
  }
  if (error instanceof oidc.ResponseBodyError) {
    // invalid_grant: the authorization code was used already, expired, or issued for another sign-in.
    return `the identity provider refused the authorization code: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`;
  }
  // openid-client wraps the check that failed (oauth4webapi's error, naming the claim) in a general message.
  const inner = (error as { cause?: { message?: string; cause?: { claim?: string } } }).cause;
  const text = inner?.message ?? describe(error);
  const claim = inner?.cause?.claim;
  if (/signature/i.test(text)) {
    return `the ID token's signature does not verify against the identity provider's keys (JWKS): it was altered or not issued by this provider (${text})`;
  }
  if (claim === 'aud' || claim === 'azp') return `the ID token was issued for another client (audience): ${text}`;
  if (claim === 'exp' || claim === 'iat' || claim === 'nbf') return `the ID token has expired: ${text}`;
  if (claim === 'nonce') return `the ID token's nonce does not match this sign-in: ${text}`;
  if (claim === 'iss') return `the ID token comes from another issuer: ${text}`;
  return `the identity provider's answer failed validation: ${text}`;
}

function describe(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  // fetch says only "fetch failed"; the cause names the network error (ENOTFOUND, ECONNREFUSED…).
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${e?.message ?? String(error)}${cause && !e.message?.includes(cause) ? `: ${cause}` : ''}`;
}
