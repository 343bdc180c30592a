/**
 * Single sign-on settings (OpenID Connect), read from PORTCULLIS_SSO_* environment variables. The client secret
 * comes from a file or the environment, never from a command line.
 */
import { readFileSync } from 'node:fs';
import type { Role } from '../../protocol/api';
import { onOff } from '../env-switch';

/** What membership a group of the identity provider gives: project (name or id) → role. */
export type GroupMap = ReadonlyMap<string, ReadonlyArray<{ project: string; role: Role }>>;

export interface SsoConfig {
  /** The OpenID Provider's issuer URL; its discovery document is `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Scopes asked for; `openid` is always among them. */
  scopes: string[];
  /** The ID token (or userinfo) claim that lists the user's groups. */
  groupsClaim: string;
  groupMap: GroupMap;
  /** Whether email and password sign-in stays on beside single sign-on. */
  passwordSignIn: boolean;
  /** Shown to users ("Sign in with <name>"). */
  displayName: string;
  /**
   * Accept the provider's MFA (amr/acr) for accounts that require MFA, instead of Portcullis's own challenge.
   * Off by default: the admin decides whether to trust the provider's second factor.
   */
  acceptIdpMfa: boolean;
  /** `amr` values (RFC 8176) that count as MFA. */
  mfaAmr: string[];
  /** `acr` values that count as MFA (provider-specific). */
  mfaAcr: string[];
  /** The provider's MFA counts for this long after the user authenticated there (`auth_time`). */
  mfaMaxAgeSeconds: number;
  /** Origins (besides loopback and VS Code's own URI schemes) a client may ask the sign-in to come back to. */
  redirectOrigins: string[];
}

export const SSO_DEFAULTS = Object.freeze({
  scopes: ['openid', 'email', 'profile'],
  groupsClaim: 'groups',
  displayName: 'single sign-on',
  mfaAmr: ['mfa'],
  mfaMaxAgeSeconds: 12 * 3600,
});

/**
 * PORTCULLIS_SSO_ISSUER (turns SSO on), PORTCULLIS_SSO_CLIENT_ID, PORTCULLIS_SSO_CLIENT_SECRET_FILE or
 * PORTCULLIS_SSO_CLIENT_SECRET, PORTCULLIS_SSO_SCOPES (space- or comma-separated), PORTCULLIS_SSO_GROUPS_CLAIM,
 * PORTCULLIS_SSO_GROUP_MAP, PORTCULLIS_SSO_PASSWORD_SIGN_IN (on|off), PORTCULLIS_SSO_NAME,
 * PORTCULLIS_SSO_ACCEPT_IDP_MFA (on|off), PORTCULLIS_SSO_MFA_AMR, PORTCULLIS_SSO_MFA_ACR, PORTCULLIS_SSO_MFA_MAX_AGE_SECONDS,
 * PORTCULLIS_SSO_REDIRECT_ORIGINS. Undefined when PORTCULLIS_SSO_ISSUER is not set.
 */
export function loadSsoConfigFromEnv(env: NodeJS.ProcessEnv): SsoConfig | undefined {
  const issuer = env.PORTCULLIS_SSO_ISSUER?.trim();
  if (!issuer) {
    const stray = Object.keys(env).find((k) => k.startsWith('PORTCULLIS_SSO_') && env[k]);
    if (stray)
      throw new Error(`${stray} is set but PORTCULLIS_SSO_ISSUER is not: give the OpenID Provider's issuer URL to turn single sign-on on`);
    return undefined;
  }
  const clientId = env.PORTCULLIS_SSO_CLIENT_ID?.trim();
  if (!clientId)
    throw new Error('PORTCULLIS_SSO_CLIENT_ID is required with PORTCULLIS_SSO_ISSUER: the client id registered at the identity provider');
  return resolveSsoConfig({
    issuer,
    clientId,
    clientSecret: clientSecretFrom(env),
    scopes: words(env.PORTCULLIS_SSO_SCOPES),
    groupsClaim: env.PORTCULLIS_SSO_GROUPS_CLAIM?.trim() || undefined,
    groupMap: env.PORTCULLIS_SSO_GROUP_MAP ? parseGroupMap(env.PORTCULLIS_SSO_GROUP_MAP) : undefined,
    passwordSignIn: onOff(env, 'PORTCULLIS_SSO_PASSWORD_SIGN_IN'),
    displayName: env.PORTCULLIS_SSO_NAME?.trim() || undefined,
    acceptIdpMfa: onOff(env, 'PORTCULLIS_SSO_ACCEPT_IDP_MFA'),
    mfaAmr: words(env.PORTCULLIS_SSO_MFA_AMR),
    mfaAcr: words(env.PORTCULLIS_SSO_MFA_ACR),
    mfaMaxAgeSeconds: seconds(env, 'PORTCULLIS_SSO_MFA_MAX_AGE_SECONDS'),
    redirectOrigins: words(env.PORTCULLIS_SSO_REDIRECT_ORIGINS),
  });
}

/** Fills in the defaults and checks what can be checked before the provider is asked. */
export function resolveSsoConfig(partial: Partial<SsoConfig> & Pick<SsoConfig, 'issuer' | 'clientId' | 'clientSecret'>): SsoConfig {
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(partial.issuer);
  } catch {
    throw new Error(`PORTCULLIS_SSO_ISSUER must be a URL such as https://login.example.com/realms/acme, got "${partial.issuer}"`);
  }
  if (issuerUrl.protocol !== 'https:' && !isLoopbackUrl(issuerUrl)) {
    throw new Error(`PORTCULLIS_SSO_ISSUER must use https (plain http only on loopback, for tests), got "${partial.issuer}"`);
  }
  const scopes = partial.scopes?.length ? partial.scopes : [...SSO_DEFAULTS.scopes];
  const redirectOrigins = (partial.redirectOrigins ?? []).map((origin) => {
    try {
      return new URL(origin).origin;
    } catch {
      throw new Error(`PORTCULLIS_SSO_REDIRECT_ORIGINS must list origins such as https://console.example.com, got "${origin}"`);
    }
  });
  return {
    issuer: partial.issuer,
    clientId: partial.clientId,
    clientSecret: partial.clientSecret,
    scopes: scopes.includes('openid') ? scopes : ['openid', ...scopes],
    groupsClaim: partial.groupsClaim || SSO_DEFAULTS.groupsClaim,
    groupMap: partial.groupMap ?? new Map(),
    passwordSignIn: partial.passwordSignIn ?? true,
    displayName: partial.displayName || SSO_DEFAULTS.displayName,
    acceptIdpMfa: partial.acceptIdpMfa ?? false,
    mfaAmr: partial.mfaAmr?.length ? partial.mfaAmr : [...SSO_DEFAULTS.mfaAmr],
    mfaAcr: partial.mfaAcr ?? [],
    mfaMaxAgeSeconds: partial.mfaMaxAgeSeconds ?? SSO_DEFAULTS.mfaMaxAgeSeconds,
    redirectOrigins,
  };
}

/**
 * `GROUP=PROJECT:ROLE[,PROJECT:ROLE…]` entries separated by `;` or new lines, e.g.
 * `portcullis-admins=default:admin; developers=default:member,shop:member`. The group ends at the last `=`, so an LDAP
 * name such as `cn=ops,ou=groups,dc=acme` works; the role is after the last `:` of each item, so project names may
 * hold a colon (but not `=` or `,`).
 */
export function parseGroupMap(text: string): GroupMap {
  const map = new Map<string, Array<{ project: string; role: Role }>>();
  for (const raw of text.split(/[;\n]/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const eq = entry.lastIndexOf('=');
    const group = entry.slice(0, eq).trim();
    if (eq <= 0 || !group) throw groupMapError(entry, 'it needs GROUP=PROJECT:ROLE');
    for (const item of entry.slice(eq + 1).split(',')) {
      const colon = item.lastIndexOf(':');
      const project = item.slice(0, colon).trim();
      const role = item.slice(colon + 1).trim();
      if (colon <= 0 || !project) throw groupMapError(entry, `"${item.trim()}" needs PROJECT:ROLE`);
      if (role !== 'admin' && role !== 'member') throw groupMapError(entry, `the role must be admin or member, got "${role}"`);
      map.set(group, [...(map.get(group) ?? []), { project, role }]);
    }
  }
  return map;
}

function groupMapError(entry: string, why: string): Error {
  return new Error(
    `PORTCULLIS_SSO_GROUP_MAP: cannot read "${entry}": ${why} (entries GROUP=PROJECT:ROLE[,PROJECT:ROLE], separated by ";")`,
  );
}

function clientSecretFrom(env: NodeJS.ProcessEnv): string {
  const file = env.PORTCULLIS_SSO_CLIENT_SECRET_FILE?.trim();
  if (file) {
    let secret: string;
    try {
      secret = readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new Error(
        `cannot read PORTCULLIS_SSO_CLIENT_SECRET_FILE ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    if (!secret)
      throw new Error(`PORTCULLIS_SSO_CLIENT_SECRET_FILE ${file} is empty: put the client secret from the identity provider in it`);
    return secret;
  }
  const secret = env.PORTCULLIS_SSO_CLIENT_SECRET?.trim();
  if (!secret) {
    throw new Error(
      'single sign-on needs the client secret: put it in a file readable only by the server and name it in PORTCULLIS_SSO_CLIENT_SECRET_FILE (or set PORTCULLIS_SSO_CLIENT_SECRET)',
    );
  }
  return secret;
}

function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function words(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(/[\s,]+/)
    .map((w) => w.trim())
    .filter(Boolean);
}

function seconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 60 || value > 30 * 86400) {
    throw new Error(`${name} must be a whole number of seconds from 60 to ${30 * 86400}, got "${raw}"`);
  }
  return value;
}
