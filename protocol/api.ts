/**
 * The control plane's JSON API under /api/v1: the types every client (CLI, proxy-core, extension) and the server share.
 * Errors are `{ error: { code, message } }` with a matching HTTP status.
 */
import type { AccountPolicy } from './policy';
import type { StoredSessionLogEvent } from './session-log';

export const API_PREFIX = '/api/v1';

export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; details?: unknown };
}

export const API_ERROR_CODES = Object.freeze({
  badRequest: 'bad_request',
  validation: 'validation_failed',
  unauthenticated: 'unauthenticated',
  forbidden: 'forbidden',
  notFound: 'not_found',
  conflict: 'conflict',
  rateLimited: 'rate_limited',
  mfaRequired: 'mfa_required',
  mfaInvalid: 'mfa_invalid',
  mfaExpired: 'mfa_expired',
  mfaNotConfigured: 'mfa_not_configured',
  gatewayOffline: 'gateway_offline',
  sessionNotActive: 'session_not_active',
  /** The account's policy requires a reason for access, and none was given. */
  reasonRequired: 'reason_required',
  /** An access request was decided by the user who made it: someone else must approve (or deny) it. */
  selfApproval: 'self_approval',
  /** An access request that is no longer pending (approved, denied, cancelled or expired) cannot be decided again. */
  requestNotPending: 'request_not_pending',
  /** Single sign-on is not set up on this server (PORTCULLIS_SSO_ISSUER). */
  ssoNotConfigured: 'sso_not_configured',
  /** A single sign-on the client waits for (device code) is not finished yet: ask again after the interval. */
  ssoPending: 'sso_pending',
  /**
   * A single sign-on was refused: the identity provider said no, its ID token failed validation (signature, issuer,
   * audience, expiry, nonce), the sign-in was already used, or the user's groups map to no project.
   */
  ssoRefused: 'sso_refused',
  /** Password sign-in is turned off on this server: sign in with single sign-on. */
  passwordSignInDisabled: 'password_sign_in_disabled',
  /** The control plane cannot do its work right now (its database does not answer): retry, or another replica. */
  unavailable: 'unavailable',
  internal: 'internal_error',
} as const);
export type ApiErrorCode = (typeof API_ERROR_CODES)[keyof typeof API_ERROR_CODES];

/** `GET /health`: this control-plane replica, as a load balancer or an operator sees it. */
export interface HealthDto {
  ok: true;
  /** This replica (one control-plane process run). */
  replicaId: string;
  /** The replicas sharing the database whose lease is current, as this replica last read them (itself included). */
  replicas: Array<{ id: string }>;
  /** Gateways with a control channel to this replica. */
  connectedGateways: number;
  /** Client connections this replica is relaying now. */
  streams: number;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string;
}

export type Role = 'admin' | 'member';

export interface UserDto {
  id: string;
  email: string;
  name: string;
  createdAt: string;
}

export interface ProjectDto {
  id: string;
  name: string;
  /** The caller's role in the project. */
  role: Role;
}

export interface MeDto {
  user: UserDto;
  projects: ProjectDto[];
}

/** A project member as listed by `GET /projects/:projectId/members`. */
export interface MemberDto {
  userId: string;
  email: string;
  name: string;
  role: Role;
  createdAt: string;
}

/** `POST /projects/:projectId/members`: `password` only when the user does not exist yet. */
export interface AddMemberRequest {
  email: string;
  role: Role;
  name?: string;
  password?: string;
}

export interface LoginRequest {
  email: string;
  password: string;
}

/** `POST /console/sign-in`: the web console's sign-in; `code` from the user's authenticator app, when they set one up. */
export interface ConsoleSignInRequest {
  email: string;
  password: string;
  code?: string;
}

/**
 * `POST /console/sso`: the single sign-on's one-time code and PKCE verifier; answers like `POST /console/sign-in`,
 * including `mfa_required` for a user with an authenticator app whose provider asserted no MFA the server accepts
 * (the code stays good until it is collected: send it again with `authenticatorCode`).
 */
export interface ConsoleSsoRequest {
  code: string;
  codeVerifier: string;
  authenticatorCode?: string;
}

/** Where the identity provider sends the web console back to (served as the console's page). */
export const CONSOLE_SSO_CALLBACK_PATH = '/sso/callback';

/**
 * `POST /console/sign-in` and `GET /console/session`: who is signed in by the console's cookie, and the CSRF token
 * the page sends as `X-CSRF-Token` with every state-changing request (the sign-in token itself stays in the cookie).
 */
export interface ConsoleSessionDto extends MeDto {
  csrfToken: string;
  expiresAt: string;
}

export interface LoginResponse {
  token: string;
  expiresAt: string;
  user: UserDto;
}

/** `GET /auth/sso`: how this server lets people sign in. */
export interface SignInMethodsDto {
  /** Email and password (`POST /auth/login`). */
  password: boolean;
  /** Single sign-on with the company's OpenID Provider, when set up. */
  sso: { enabled: false } | { enabled: true; name: string; idpMfaAccepted: boolean };
}

/**
 * `POST /auth/sso/token`: finishes a single sign-on. Either the one-time `code` the server redirected the client
 * to (with the PKCE `codeVerifier` whose S256 the client sent to `/auth/sso/start` as `code_challenge`), or the
 * `deviceCode` of `POST /auth/sso/device` (answered `sso_pending` until the user finished in a browser).
 */
export type SsoTokenRequest = { code: string; codeVerifier: string } | { deviceCode: string };

/** `POST /auth/sso/token` answers a sign-in like `POST /auth/login`, and says whether the IdP's MFA counts. */
export interface SsoLoginResponse extends LoginResponse {
  /** The identity provider asserted MFA (amr/acr) and the server accepts it for accounts that require MFA. */
  idpMfa: boolean;
}

/** `POST /auth/sso/device`: a sign-in finished in a browser anywhere (RFC 8628 style). */
export interface SsoDeviceStartDto {
  /** Secret: kept by the client, exchanged at `POST /auth/sso/token`. */
  deviceCode: string;
  /** Short code the user checks on the verification page. */
  userCode: string;
  /** Open this in any browser (it carries the user code). */
  verificationUrl: string;
  expiresAt: string;
  /** Ask `POST /auth/sso/token` no more often than this. */
  intervalSeconds: number;
}

export interface GatewayDto {
  id: string;
  projectId: string;
  name: string;
  online: boolean;
  lastSeenAt: string | null;
  createdAt: string;
}

export interface EnrollmentTokenDto {
  /** Shown once; the gateway exchanges it for its own credential. */
  token: string;
  expiresAt: string;
}

export interface ResourceDto {
  id: string;
  projectId: string;
  name: string;
  gatewayId: string;
  gatewayName: string;
  gatewayOnline: boolean;
  connectionString: string;
  authDatabase: string;
  tlsEnabled: boolean;
  tlsRejectUnauthorized: boolean;
  /** Whether a CA certificate is stored (the certificate itself is not returned). */
  hasCaCertificate: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ResourceInput {
  name: string;
  gatewayId: string;
  connectionString: string;
  authDatabase?: string;
  tlsEnabled?: boolean;
  tlsRejectUnauthorized?: boolean;
  /** PEM; `null` removes a stored one on update. */
  caCertificate?: string | null;
}

export interface AccountDto {
  id: string;
  resourceId: string;
  name: string;
  description: string;
  username: string;
  mfaRequired: boolean;
  maxSessionDurationSeconds: number;
  /** What a session on the account may do, enforced by the gateway on every command (protocol/policy.ts). */
  policy: AccountPolicy;
  createdAt: string;
  updatedAt: string;
}

export interface AccountInput {
  name: string;
  description?: string;
  username: string;
  /** Write-only: never returned by the API. */
  password: string;
  mfaRequired?: boolean;
  maxSessionDurationSeconds?: number;
  /** The whole policy (missing fields take the defaults); on update, replaces the account's policy. */
  policy?: Partial<AccountPolicy>;
}

export type SessionState = 'starting' | 'active' | 'ended' | 'terminated' | 'expired' | 'failed';

export type SessionEndReason = 'stopped' | 'expired' | 'terminated' | 'idle' | 'gateway_offline' | 'failed';

export type MfaMethod = 'totp' | 'email';
/** How a session's MFA was passed; `idp`: the identity provider asserted MFA at single sign-on (amr/acr), accepted by the server. */
export type SessionMfaMethod = MfaMethod | 'idp';

export interface SessionDto {
  id: string;
  projectId: string;
  userId: string;
  userEmail: string;
  resourceId: string;
  resourceName: string;
  accountId: string;
  accountName: string;
  gatewayId: string;
  state: SessionState;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  expiresAt: string;
  /** Seconds from start (or creation) to end, or to now while the session runs. */
  durationSeconds: number;
  endReason: SessionEndReason | null;
  endedBy: string | null;
  clientAddress: string | null;
  clientAgent: string | null;
  mfaMethod: SessionMfaMethod | null;
  /** Why the user opened it, when they said (some accounts require it). */
  reason: string | null;
  connections: number;
  commands: number;
  /** Risk flags on its recorded commands, and how many of them are high severity. */
  flagCount: number;
  highFlagCount: number;
  /** The approved access request (grant) it started under, for accounts that require approval. */
  accessRequestId: string | null;
}

export interface AccessRequest {
  /** Requested duration in seconds; capped by the account's maximum. */
  durationSeconds?: number;
  /** Free text such as `portcullis-cli/0.1.0` or `vscode/1.100`. */
  clientAgent?: string;
  /** Answer to an MFA challenge returned by an earlier access request. */
  mfa?: { challengeId: string; code: string };
  /** Why the session is needed (up to 500 characters); required when the account's policy says so. */
  reason?: string;
  /**
   * Required to start a session: the public key (base64 of a DER SubjectPublicKeyInfo, EC P-256) of a key pair the
   * client made for this session. The answer carries a certificate for it; the client presents it to the gateway
   * inside every relayed stream (end-to-end encryption, ARCHITECTURE.md). The private key never leaves the client.
   */
  tunnelPublicKey?: string;
}

/** What the control plane vouches for at session start, for the TLS between the client and the gateway. */
export interface SessionTunnelDto {
  /** PEM certificate for the request's tunnelPublicKey: subject CN=<session id>, valid until the session's end. */
  clientCertificate: string;
  /** SHA-256 fingerprint (`AB:CD:…`) of the gateway's certificate: the client accepts only this gateway. */
  gatewayFingerprint: string;
}

export interface RelayTicketDto {
  /** Short-lived; sent as `Authorization: Ticket <ticket>` when opening a relay stream. */
  ticket: string;
  expiresAt: string;
}

export interface AccessGranted {
  kind: 'session';
  session: SessionDto;
  relay: RelayTicketDto & { url: string };
  tunnel: SessionTunnelDto;
}

export interface AccessMfaChallenge {
  kind: 'mfa';
  challengeId: string;
  method: MfaMethod;
  expiresAt: string;
  /** For email: where the code went, partly hidden (j***@example.com). */
  sentTo?: string;
}

/** The account requires approval and the user has no grant: a request waits for an admin (`GET /access-requests/:id`). */
export interface AccessApprovalPending {
  kind: 'approval';
  request: AccessRequestDto;
}

export type AccessResponse = AccessGranted | AccessMfaChallenge | AccessApprovalPending;

/**
 * pending: waiting for an admin (until `expiresAt`). approved: a grant; sessions may start until `grantExpiresAt`.
 * denied, cancelled (by the requester): final. expired: pending past `expiresAt`, or a grant past `grantExpiresAt`.
 */
export type AccessRequestState = 'pending' | 'approved' | 'denied' | 'cancelled' | 'expired';

export interface AccessRequestDto {
  id: string;
  projectId: string;
  resourceId: string;
  resourceName: string;
  accountId: string;
  accountName: string;
  requesterUserId: string;
  requesterEmail: string;
  reason: string;
  /** How long the grant lasts once approved (the requested duration, capped as a session's is). */
  durationSeconds: number;
  state: AccessRequestState;
  createdAt: string;
  /** When a pending request expires unanswered. */
  expiresAt: string;
  decidedAt: string | null;
  decidedByEmail: string | null;
  /** What the admin said with the decision. */
  note: string | null;
  /** Approved: the end of the grant's time box. */
  grantExpiresAt: string | null;
  /** Sessions started under the grant. */
  sessions: number;
}

/**
 * What a connection test found (`POST …/test-connection`): the gateway reached the database, and signed in when an
 * account was given, without starting a session. `message` is meant for the admin as it is.
 */
export interface ConnectionTestDto {
  ok: boolean;
  /** How far it got: `gateway` (the gateway did not answer), `reach` (connection string, network, TLS, hello), `authenticate` (SCRAM). */
  stage: 'gateway' | 'reach' | 'authenticate';
  message: string;
  /** What answered: `primary`, `secondary`, `standalone`, `mongos`, …; absent when nothing did. */
  serverRole?: string;
  /** The SCRAM mechanism used, when it signed in. */
  mechanism?: string;
  durationMs: number;
}

/** `POST /access-requests/:id/approve`. */
export interface ApproveAccessRequest {
  note?: string;
  /** Shorter than requested, if the admin wants; never longer. */
  durationSeconds?: number;
}

/** `POST /access-requests/:id/deny`. */
export interface DenyAccessRequest {
  note?: string;
}

export interface SessionLogPage extends Page<StoredSessionLogEvent> {}

/** `GET /sessions/search`: a recorded command that matched, with the session it belongs to. */
export type SessionSearchHit = StoredSessionLogEvent & { resourceName: string; accountName: string; userEmail: string };

export interface AuditEventDto {
  id: string;
  projectId: string | null;
  actorUserId: string | null;
  actorEmail: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  details: Record<string, unknown>;
  time: string;
}

/** `GET /me/mfa`: the caller's MFA set-up and, per project, which method an access request would use. */
export interface MfaStatusDto {
  totp: { enrolled: boolean; pending: boolean; confirmedAt: string | null };
  /** Whether the control plane can send email codes (an SMTP server is configured), and the caller's address, partly hidden. */
  email: { available: boolean; sentTo: string };
  projects: Array<{ projectId: string; name: string; enforcedMethod: MfaMethod | null; effectiveMethod: MfaMethod }>;
}

/** `POST /me/mfa/totp`: a pending authenticator secret; it counts only once confirmed with a code. */
export interface TotpEnrollmentDto {
  /** Base32, for typing into an authenticator app by hand. */
  secret: string;
  /** `otpauth://totp/...`, for a QR code. */
  uri: string;
}

/** Body of `POST /me/mfa/totp/confirm` and `DELETE /me/mfa/totp`. */
export interface MfaCodeRequest {
  code: string;
}

/** `PUT /projects/:projectId/mfa-policy` body and answer. `null` lets each user's own method apply. */
export interface MfaPolicyDto {
  enforcedMethod: MfaMethod | null;
}
