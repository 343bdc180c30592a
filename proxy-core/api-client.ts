/**
 * Typed client of the control plane's JSON API (`/api/v1`, see ARCHITECTURE.md). Used by the CLI, proxy-core's
 * startAccess and the VS Code extension. One method per route; every failure is an ApiError.
 */

import {
  type AccessRequest,
  type AccessRequestDto,
  type AccessRequestState,
  type AccessResponse,
  type AccountDto,
  type AccountInput,
  type AddMemberRequest,
  API_ERROR_CODES,
  API_PREFIX,
  type ApiErrorCode,
  type ApproveAccessRequest,
  type AuditEventDto,
  type ConnectionTestDto,
  type DenyAccessRequest,
  type EnrollmentTokenDto,
  type GatewayDto,
  type HealthDto,
  type LoginRequest,
  type LoginResponse,
  type MeDto,
  type MemberDto,
  type MfaMethod,
  type MfaPolicyDto,
  type MfaStatusDto,
  type Page,
  type ProjectDto,
  type RelayTicketDto,
  type ResourceDto,
  type ResourceInput,
  type Role,
  type SessionDto,
  type SessionLogPage,
  type SessionSearchHit,
  type SessionState,
  type SignInMethodsDto,
  type SsoDeviceStartDto,
  type SsoLoginResponse,
  type SsoTokenRequest,
  type TotpEnrollmentDto,
} from '../protocol/api';
import type { RiskFlagId } from '../protocol/session-log';
import { fetchTrusting } from './server-trust';

export type ApiClientErrorCode = ApiErrorCode | 'network_error';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status, or 0 when the server could not be reached. */
  readonly status: number;
  readonly code: ApiClientErrorCode;
  readonly details?: unknown;

  constructor(status: number, code: ApiClientErrorCode, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function isApiError(error: unknown, code?: ApiClientErrorCode): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}

export interface ApiClientOptions {
  /** Base address of the control plane, e.g. `https://portcullis.example.com` (a trailing `/api/v1` is accepted). */
  server: string;
  /** Bearer token from `login`. */
  token?: string;
  userAgent?: string;
  fetch?: typeof fetch;
  /** PEM of the CA that issued the control plane's certificate (a private CA), instead of the system's roots. */
  ca?: string;
  /** Where this client's user gives a CA, for certificate errors (default: the CLI's `--ca-file (or PORTCULLIS_CA_FILE)`). */
  caHint?: string;
  /** Per-request time limit; a request that takes longer fails with `network_error`. Default 30 s. */
  timeoutMs?: number;
}

export interface PageOptions {
  cursor?: string;
  limit?: number;
}

export interface ListResourcesOptions extends PageOptions {
  projectId: string;
  name?: string;
}

export interface ListAccountsOptions extends PageOptions {
  name?: string;
}

export interface SessionFilters extends PageOptions {
  projectId?: string;
  resourceId?: string;
  accountId?: string;
  userId?: string;
  state?: SessionState;
  /** Only sessions with a command flagged so. */
  flag?: RiskFlagId;
  /** ISO 8601 times bounding the session's creation. */
  from?: string;
  to?: string;
}

export interface SessionSearchFilters extends PageOptions {
  q: string;
  resourceId?: string;
  userId?: string;
  /** ISO 8601 bounds on the command's time. */
  from?: string;
  to?: string;
}

export interface CreateEnrollmentTokenRequest {
  projectId: string;
  name?: string;
}

const STATUS_CODES: Record<number, ApiErrorCode> = {
  400: API_ERROR_CODES.badRequest,
  401: API_ERROR_CODES.unauthenticated,
  403: API_ERROR_CODES.forbidden,
  404: API_ERROR_CODES.notFound,
  409: API_ERROR_CODES.conflict,
  429: API_ERROR_CODES.rateLimited,
};

const KNOWN_CODES = new Set<string>(Object.values(API_ERROR_CODES));

type Query = Record<string, string | number | boolean | undefined>;

/** The largest page the API gives (server/services/cursor.ts): fewest round trips when reading a whole list. */
const MAX_PAGE = 500;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Sends the request without the bearer token (login, health). */
  anonymous?: boolean;
  /** Longer than the client's usual time limit (a request the server holds open). */
  timeoutMs?: number;
  /** Aborts the request (the caller gave up). */
  signal?: AbortSignal;
}

export interface AccessRequestFilters extends PageOptions {
  projectId?: string;
  state?: AccessRequestState;
  /** Only your own requests. */
  mine?: boolean;
}

/** Normalizes a user-typed server address to its origin plus path, without a trailing slash or `/api/v1`. */
export function normalizeServerUrl(server: string): string {
  let url: URL;
  try {
    url = new URL(server.trim());
  } catch {
    throw new ApiError(0, 'network_error', `"${server}" is not a valid server address; use a URL such as https://portcullis.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ApiError(0, 'network_error', `the server address must start with http:// or https:// (got ${url.protocol})`);
  }
  // Credentials in the address would end up in messages and files; the API uses bearer tokens instead.
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  let path = url.pathname.replace(/\/+$/, '');
  if (path.endsWith(API_PREFIX)) path = path.slice(0, -API_PREFIX.length);
  return `${url.origin}${path}`;
}

export class ApiClient {
  /** The normalized server address (no trailing slash, no `/api/v1`). */
  readonly server: string;
  private token: string | undefined;
  private readonly userAgent: string | undefined;
  private readonly fetchImpl: typeof fetch;
  /** The CA trusted for this server, for the other connections made to it (relay streams). */
  readonly ca: string | undefined;
  private readonly caHint: string;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.server = normalizeServerUrl(options.server);
    this.token = options.token;
    this.userAgent = options.userAgent;
    this.fetchImpl = options.fetch ?? fetchTrusting(options.ca);
    this.ca = options.ca;
    this.caHint = options.caHint ?? CLI_CA_HINT;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Replaces the bearer token (e.g. after login). */
  setToken(token: string | undefined): void {
    this.token = token;
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  // --- sign-in -------------------------------------------------------------------------------------------

  login(request: LoginRequest): Promise<LoginResponse> {
    return this.request('POST', '/auth/login', { body: request, anonymous: true });
  }

  /** How the server lets people sign in (password, single sign-on). */
  signInMethods(): Promise<SignInMethodsDto> {
    return this.request('GET', '/auth/sso', { anonymous: true });
  }

  /** Collects a finished single sign-on: the one-time code with its PKCE verifier, or a device code. */
  ssoToken(request: SsoTokenRequest): Promise<SsoLoginResponse> {
    return this.request('POST', '/auth/sso/token', { body: request, anonymous: true });
  }

  /** Starts a device sign-in: the user finishes it in any browser while the client polls `ssoToken`. */
  ssoDevice(): Promise<SsoDeviceStartDto> {
    return this.request('POST', '/auth/sso/device', { anonymous: true });
  }

  async logout(): Promise<void> {
    await this.request('POST', '/auth/logout');
  }

  me(): Promise<MeDto> {
    return this.request('GET', '/me');
  }

  // --- projects and members -------------------------------------------------------------------------------

  listProjects(): Promise<ProjectDto[]> {
    return this.request('GET', '/projects');
  }

  createProject(request: { name: string }): Promise<ProjectDto> {
    return this.request('POST', '/projects', { body: request });
  }

  /** Every member (all pages). */
  listMembers(projectId: string): Promise<MemberDto[]> {
    return collectPages((cursor) =>
      this.request<Page<MemberDto>>('GET', `/projects/${seg(projectId)}/members`, { query: { limit: MAX_PAGE, cursor } }),
    );
  }

  addMember(projectId: string, request: AddMemberRequest): Promise<MemberDto> {
    return this.request('POST', `/projects/${seg(projectId)}/members`, { body: request });
  }

  updateMember(projectId: string, userId: string, request: { role: Role }): Promise<MemberDto> {
    return this.request('PATCH', `/projects/${seg(projectId)}/members/${seg(userId)}`, { body: request });
  }

  async removeMember(projectId: string, userId: string): Promise<void> {
    await this.request('DELETE', `/projects/${seg(projectId)}/members/${seg(userId)}`);
  }

  listAudit(projectId: string, options: PageOptions = {}): Promise<Page<AuditEventDto>> {
    return this.request('GET', `/projects/${seg(projectId)}/audit`, { query: { ...options } });
  }

  // --- gateways -------------------------------------------------------------------------------------------

  createEnrollmentToken(request: CreateEnrollmentTokenRequest): Promise<EnrollmentTokenDto> {
    return this.request('POST', '/gateways/enrollment-tokens', { body: request });
  }

  /** Every gateway of the project (all pages). */
  listGateways(projectId: string): Promise<GatewayDto[]> {
    return collectPages((cursor) => this.request<Page<GatewayDto>>('GET', '/gateways', { query: { projectId, limit: MAX_PAGE, cursor } }));
  }

  async deleteGateway(gatewayId: string): Promise<void> {
    await this.request('DELETE', `/gateways/${seg(gatewayId)}`);
  }

  // --- resources ------------------------------------------------------------------------------------------

  listResources(options: ListResourcesOptions): Promise<Page<ResourceDto>> {
    return this.request('GET', '/resources', { query: { ...options } });
  }

  createResource(projectId: string, input: ResourceInput): Promise<ResourceDto> {
    return this.request('POST', '/resources', { body: { projectId, ...input } });
  }

  getResource(resourceId: string): Promise<ResourceDto> {
    return this.request('GET', `/resources/${seg(resourceId)}`);
  }

  updateResource(resourceId: string, input: Partial<ResourceInput>): Promise<ResourceDto> {
    return this.request('PATCH', `/resources/${seg(resourceId)}`, { body: input });
  }

  async deleteResource(resourceId: string): Promise<void> {
    await this.request('DELETE', `/resources/${seg(resourceId)}`);
  }

  // --- accounts -------------------------------------------------------------------------------------------

  listAccounts(resourceId: string, options: ListAccountsOptions = {}): Promise<Page<AccountDto>> {
    return this.request('GET', `/resources/${seg(resourceId)}/accounts`, { query: { ...options } });
  }

  createAccount(resourceId: string, input: AccountInput): Promise<AccountDto> {
    return this.request('POST', `/resources/${seg(resourceId)}/accounts`, { body: input });
  }

  getAccount(accountId: string): Promise<AccountDto> {
    return this.request('GET', `/accounts/${seg(accountId)}`);
  }

  updateAccount(accountId: string, input: Partial<AccountInput>): Promise<AccountDto> {
    return this.request('PATCH', `/accounts/${seg(accountId)}`, { body: input });
  }

  async deleteAccount(accountId: string): Promise<void> {
    await this.request('DELETE', `/accounts/${seg(accountId)}`);
  }

  // --- sessions -------------------------------------------------------------------------------------------

  /** A session with its relay ticket, or an MFA challenge to answer with a second call carrying `mfa`. */
  requestAccess(accountId: string, request: AccessRequest = {}): Promise<AccessResponse> {
    return this.request('POST', `/accounts/${seg(accountId)}/access`, { body: request });
  }

  createRelayTicket(sessionId: string): Promise<RelayTicketDto> {
    return this.request('POST', `/sessions/${seg(sessionId)}/relay-tickets`, { body: {} });
  }

  stopSession(sessionId: string): Promise<SessionDto> {
    return this.request('POST', `/sessions/${seg(sessionId)}/stop`, { body: {} });
  }

  terminateSession(sessionId: string): Promise<SessionDto> {
    return this.request('POST', `/sessions/${seg(sessionId)}/terminate`, { body: {} });
  }

  listSessions(filters: SessionFilters = {}): Promise<Page<SessionDto>> {
    return this.request('GET', '/sessions', { query: { ...filters } });
  }

  getSession(sessionId: string): Promise<SessionDto> {
    return this.request('GET', `/sessions/${seg(sessionId)}`);
  }

  /** Recorded commands matching every word of `q` (as prefixes), across the sessions you may see, newest first. */
  searchSessionLogs(query: SessionSearchFilters): Promise<Page<SessionSearchHit>> {
    return this.request('GET', '/sessions/search', { query: { ...query } });
  }

  getSessionLogs(sessionId: string, options: PageOptions = {}): Promise<SessionLogPage> {
    return this.request('GET', `/sessions/${seg(sessionId)}/logs`, { query: { ...options } });
  }

  // --- multi-factor authentication ------------------------------------------------------------------------

  getMfaStatus(): Promise<MfaStatusDto> {
    return this.request('GET', '/me/mfa');
  }

  /** A pending authenticator secret; confirm it with a first code. */
  startTotpEnrollment(): Promise<TotpEnrollmentDto> {
    return this.request('POST', '/me/mfa/totp', { body: {} });
  }

  confirmTotpEnrollment(code: string): Promise<MfaStatusDto> {
    return this.request('POST', '/me/mfa/totp/confirm', { body: { code } });
  }

  /** Removes the authenticator app; needs a current code from it. */
  removeTotp(code: string): Promise<MfaStatusDto> {
    return this.request('DELETE', '/me/mfa/totp', { body: { code } });
  }

  setMfaPolicy(projectId: string, enforcedMethod: MfaMethod | null): Promise<MfaPolicyDto> {
    return this.request('PUT', `/projects/${seg(projectId)}/mfa-policy`, { body: { enforcedMethod } });
  }

  /** The gateway signs in as the account (with `password` instead of the stored one, to try it before saving). */
  testAccountConnection(accountId: string, input: { password?: string } = {}): Promise<ConnectionTestDto> {
    return this.request('POST', `/accounts/${seg(accountId)}/test-connection`, { body: input, timeoutMs: this.timeoutMs + 30_000 });
  }

  /** The gateway reaches the resource's database, and signs in when a user is given. */
  testResourceConnection(resourceId: string, user: { username?: string; password?: string } = {}): Promise<ConnectionTestDto> {
    return this.request('POST', `/resources/${seg(resourceId)}/test-connection`, { body: user, timeoutMs: this.timeoutMs + 30_000 });
  }

  /** Settings of a resource not saved yet. */
  testNewResourceConnection(
    input: Omit<ResourceInput, 'name'> & { projectId: string; name?: string; username?: string; password?: string },
  ): Promise<ConnectionTestDto> {
    return this.request('POST', '/resources/test-connection', { body: input, timeoutMs: this.timeoutMs + 30_000 });
  }

  listAccessRequests(filters: AccessRequestFilters = {}): Promise<Page<AccessRequestDto>> {
    return this.request('GET', '/access-requests', { query: { ...filters } });
  }

  /** With `waitSeconds`, the server answers once the request is decided (or after that long, still pending). */
  getAccessRequest(requestId: string, options: { waitSeconds?: number; signal?: AbortSignal } = {}): Promise<AccessRequestDto> {
    const wait = options.waitSeconds ?? 0;
    return this.request('GET', `/access-requests/${seg(requestId)}`, {
      query: { wait: wait > 0 ? wait : undefined },
      timeoutMs: this.timeoutMs + wait * 1000,
      signal: options.signal,
    });
  }

  approveAccessRequest(requestId: string, input: ApproveAccessRequest = {}): Promise<AccessRequestDto> {
    return this.request('POST', `/access-requests/${seg(requestId)}/approve`, { body: input });
  }

  denyAccessRequest(requestId: string, input: DenyAccessRequest = {}): Promise<AccessRequestDto> {
    return this.request('POST', `/access-requests/${seg(requestId)}/deny`, { body: input });
  }

  cancelAccessRequest(requestId: string): Promise<AccessRequestDto> {
    return this.request('POST', `/access-requests/${seg(requestId)}/cancel`, { body: {} });
  }

  health(): Promise<HealthDto> {
    return this.request('GET', '/health', { anonymous: true });
  }

  // --- transport ------------------------------------------------------------------------------------------

  private async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(`${this.server}${API_PREFIX}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.userAgent) headers['user-agent'] = this.userAgent;
    if (!options.anonymous && this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }

    let response: Response;
    try {
      const timeout = AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs);
      const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
      response = await this.fetchImpl(url, { method, headers, body, signal });
    } catch (error) {
      throw this.networkError(error);
    }

    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.networkError(error);
    }
    if (response.ok) {
      if (text === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new ApiError(
          response.status,
          API_ERROR_CODES.internal,
          `the server at ${this.server} answered ${method} ${API_PREFIX}${path} with something that is not JSON; check that the address points at a Portcullis server`,
        );
      }
    }
    throw this.errorFromResponse(response, text);
  }

  private errorFromResponse(response: Response, text: string): ApiError {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const error = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
    const fallback = STATUS_CODES[response.status] ?? API_ERROR_CODES.internal;
    if (error && typeof error.code === 'string' && KNOWN_CODES.has(error.code)) {
      const message = typeof error.message === 'string' && error.message !== '' ? error.message : `${error.code} (HTTP ${response.status})`;
      return new ApiError(response.status, error.code as ApiErrorCode, message, error.details);
    }
    if (error && typeof error.message === 'string') return new ApiError(response.status, fallback, error.message, error.details);
    // Not our error format: a proxy, a different service, or a crash before the error handler.
    return new ApiError(
      response.status,
      fallback,
      `the server at ${this.server} answered HTTP ${response.status} ${response.statusText}`.trim() +
        '; check that the address points at a Portcullis server and that it is healthy',
    );
  }

  private networkError(error: unknown): ApiError {
    const cause = describeCause(error);
    if (isCertificateError(cause)) {
      return new ApiError(0, 'network_error', untrustedCertificateMessage(this.server, cause, this.ca !== undefined, this.caHint));
    }
    return new ApiError(
      0,
      'network_error',
      `could not reach the Portcullis server at ${this.server} (${cause}); check the address and that the server is running`,
    );
  }
}

/** Reads every page of a listing (for name resolution and small tables). */
export async function collectPages<T>(load: (cursor: string | undefined) => Promise<Page<T>>, max = 10_000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await load(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < max);
  return items;
}

function seg(id: string): string {
  return encodeURIComponent(id);
}

/** Node's codes for a certificate it does not trust or that does not fit the name. */
export function isCertificateError(code: string): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)|ERR_TLS_CERT_ALTNAME/.test(code);
}

const CLI_CA_HINT = '--ca-file (or PORTCULLIS_CA_FILE)';

export function untrustedCertificateMessage(server: string, code: string, withCa: boolean, hint = CLI_CA_HINT): string {
  return withCa
    ? `the Portcullis server at ${server} presented a certificate that the given CA did not issue (${code}); check ${hint}`
    : `the Portcullis server at ${server} presented a certificate this machine does not trust (${code}); if your company runs its own CA, give its certificate with ${hint}`;
}

function describeCause(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'no answer in time';
    const inner = (error as { cause?: unknown }).cause;
    const code = (inner as { code?: unknown } | undefined)?.code ?? (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (inner instanceof Error && inner.message) return inner.message;
    return error.message;
  }
  return String(error);
}
