/**
 * DTO builders and an in-memory API client for the extension's unit tests. They stand in for the control
 * plane only in unit tests; the UI test (test/e2e/extension-ui.test.ts) runs the real server and gateway.
 */
import { EventEmitter } from 'node:events';
import type {
  AccessMfaChallenge,
  AccessRequestDto,
  AccessRequestState,
  AccountDto,
  ConnectionTestDto,
  GatewayDto,
  MeDto,
  MfaStatusDto,
  Page,
  ResourceDto,
  SessionDto,
} from '../../protocol/api';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import type { AccessEvents } from '../../proxy-core/access';
import { AccessRequestClosed, waitForApproval } from '../../proxy-core/access-approval';
import { ApiError } from '../../proxy-core/api-client';
import type { AccessEnded, AccessHandleLike, StartAccessLike } from '../sessions/access-types';

export function resourceDto(overrides: Partial<ResourceDto> = {}): ResourceDto {
  return {
    id: 'res_1',
    projectId: 'prj_1',
    name: 'orders-db',
    gatewayId: 'gw_1',
    gatewayName: 'dc1-gateway',
    gatewayOnline: true,
    connectionString: 'mongodb://db.internal:27017/',
    authDatabase: 'admin',
    tlsEnabled: false,
    tlsRejectUnauthorized: true,
    hasCaCertificate: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function accountDto(overrides: Partial<AccountDto> = {}): AccountDto {
  return {
    id: 'acc_1',
    resourceId: 'res_1',
    name: 'reader',
    description: '',
    username: 'reader',
    mfaRequired: false,
    maxSessionDurationSeconds: 3600,
    policy: { mode: 'read-write', databases: [], denied: [], reasonRequired: false, approvalRequired: false },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function sessionDto(overrides: Partial<SessionDto> = {}): SessionDto {
  return {
    id: 'ses_1',
    projectId: 'prj_1',
    userId: 'usr_1',
    userEmail: 'ada@example.com',
    resourceId: 'res_1',
    resourceName: 'orders-db',
    accountId: 'acc_1',
    accountName: 'reader',
    gatewayId: 'gw_1',
    state: 'active',
    createdAt: '2026-01-01T10:00:00.000Z',
    startedAt: '2026-01-01T10:00:00.000Z',
    endedAt: null,
    expiresAt: '2026-01-01T11:00:00.000Z',
    durationSeconds: 0,
    endReason: null,
    endedBy: null,
    clientAddress: '127.0.0.1',
    clientAgent: 'portcullis-vscode/0.1.0',
    mfaMethod: null,
    reason: null,
    connections: 0,
    commands: 0,
    flagCount: 0,
    highFlagCount: 0,
    accessRequestId: null,
    ...overrides,
  };
}

export function accessRequestDto(overrides: Partial<AccessRequestDto> = {}): AccessRequestDto {
  const createdAt = overrides.createdAt ?? new Date(Date.now() - 120_000).toISOString();
  return {
    id: 'req_1',
    projectId: 'prj_1',
    resourceId: 'res_1',
    resourceName: 'orders-db',
    accountId: 'acc_1',
    accountName: 'reader',
    requesterUserId: 'usr_2',
    requesterEmail: 'bob@example.com',
    reason: 'INC-42: stuck orders',
    durationSeconds: 1800,
    state: 'pending',
    createdAt,
    expiresAt: new Date(Date.parse(createdAt) + 3600_000).toISOString(),
    decidedAt: null,
    decidedByEmail: null,
    note: null,
    grantExpiresAt: null,
    sessions: 0,
    ...overrides,
  };
}

export function meDto(role: 'admin' | 'member' = 'member', projects = 1): MeDto {
  return {
    user: { id: 'usr_1', email: 'ada@example.com', name: 'Ada', createdAt: '2026-01-01T00:00:00.000Z' },
    projects: Array.from({ length: projects }, (_, i) => ({ id: `prj_${i + 1}`, name: `project ${i + 1}`, role })),
  };
}

const page = <T>(items: T[]): Page<T> => ({ items });

/** Records every call; answers from its fields. Methods mirror proxy-core's ApiClient. */
export class FakeApi {
  calls: Array<{ method: string; args: unknown[] }> = [];
  token: string | undefined;
  me_: MeDto = meDto();
  resources: ResourceDto[] = [resourceDto()];
  accounts: AccountDto[] = [accountDto()];
  gateways: GatewayDto[] = [];
  sessions: SessionDto[] = [];
  logs: StoredSessionLogEvent[] = [];
  accessRequests: AccessRequestDto[] = [];
  /** When set, every call fails with it. */
  failWith: Error | undefined;
  /** What the gateway answers Test Connection with (a function sees the call), or an error to throw (gateway offline). */
  connectionTest: ConnectionTestDto | Error | ((method: string, args: unknown[]) => ConnectionTestDto) = {
    ok: true,
    stage: 'authenticate',
    message: 'Signed in to the database of resource "orders-db" (primary) as reader with SCRAM-SHA-256.',
    serverRole: 'primary',
    mechanism: 'SCRAM-SHA-256',
    durationMs: 12,
  };
  /** The signed-in user's authenticator app: `code` is the one the app shows now. */
  totp = { enrolled: false, code: '123456' };
  private readonly decisions = new EventEmitter<{ decided: [string] }>();

  constructor(readonly server: string) {}

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.failWith) throw this.failWith;
  }

  async health() {
    this.record('health');
    return { ok: true as const, replicaId: 'rep_1', replicas: [{ id: 'rep_1' }], connectedGateways: 1, streams: 0 };
  }
  setToken(token: string | undefined) {
    this.token = token;
  }
  async login(request: { email: string; password: string }) {
    this.record('login', request);
    if (request.password !== 'right password') throw new ApiError(401, 'unauthenticated', 'wrong email or password');
    return { token: 'tok_secret', expiresAt: '2027-01-01T00:00:00.000Z', user: this.me_.user };
  }
  /** What GET /auth/sso answers; tests switch single sign-on on. */
  sso: { enabled: false } | { enabled: true; name: string; idpMfaAccepted: boolean } = { enabled: false };
  async signInMethods() {
    this.record('signInMethods');
    return { password: true, sso: this.sso };
  }
  /** Accepts the code `code_ok` once, as the server does (a used code is refused). */
  private ssoCodesUsed = 0;
  async ssoToken(request: { code: string; codeVerifier: string }) {
    this.record('ssoToken', request);
    if (request.code !== 'code_ok' || this.ssoCodesUsed++ > 0) {
      throw new ApiError(401, 'sso_refused', 'this sign-in code is unknown, used or expired');
    }
    return { token: 'tok_sso', expiresAt: '2027-01-01T00:00:00.000Z', user: this.me_.user, idpMfa: false };
  }
  async logout() {
    this.record('logout');
  }
  async me() {
    this.record('me');
    if (this.token === 'expired') throw new ApiError(401, 'unauthenticated', 'token expired');
    return this.me_;
  }
  async listResources(options: { projectId: string }) {
    this.record('listResources', options);
    return page(this.resources.filter((r) => r.projectId === options.projectId));
  }
  async listAccounts(resourceId: string) {
    this.record('listAccounts', resourceId);
    return page(this.accounts.filter((a) => a.resourceId === resourceId));
  }
  async listGateways(projectId: string) {
    this.record('listGateways', projectId);
    return this.gateways;
  }
  async createResource(projectId: string, input: unknown) {
    this.record('createResource', projectId, input);
    return resourceDto({ ...(input as object), projectId, id: 'res_new' });
  }
  async updateResource(id: string, input: unknown) {
    this.record('updateResource', id, input);
    return resourceDto({ id });
  }
  async deleteResource(id: string) {
    this.record('deleteResource', id);
  }
  async createAccount(resourceId: string, input: unknown) {
    this.record('createAccount', resourceId, input);
    return accountDto({ ...(input as object), resourceId, id: 'acc_new' });
  }
  async deleteAccount(id: string) {
    this.record('deleteAccount', id);
  }
  async updateAccount(id: string, input: { policy?: unknown }) {
    this.record('updateAccount', id, input);
    return accountDto({ ...(input as object), id });
  }
  async getAccount(id: string) {
    this.record('getAccount', id);
    const a = this.accounts.find((x) => x.id === id);
    if (!a) throw new ApiError(404, 'not_found', 'account not found');
    return a;
  }
  async getResource(id: string) {
    this.record('getResource', id);
    const r = this.resources.find((x) => x.id === id);
    if (!r) throw new ApiError(404, 'not_found', 'resource not found');
    return r;
  }
  private testAnswer(method: string, args: unknown[]): ConnectionTestDto {
    this.record(method, ...args);
    if (this.connectionTest instanceof Error) throw this.connectionTest;
    return typeof this.connectionTest === 'function' ? this.connectionTest(method, args) : this.connectionTest;
  }
  async testAccountConnection(id: string, input: { password?: string } = {}) {
    return this.testAnswer('testAccountConnection', [id, input]);
  }
  async testResourceConnection(id: string, user: { username?: string; password?: string } = {}) {
    return this.testAnswer('testResourceConnection', [id, user]);
  }
  async testNewResourceConnection(input: unknown) {
    return this.testAnswer('testNewResourceConnection', [input]);
  }
  mfaStatus(): MfaStatusDto {
    return {
      totp: { enrolled: this.totp.enrolled, pending: false, confirmedAt: this.totp.enrolled ? '2026-01-01T00:00:00.000Z' : null },
      email: { available: true, sentTo: 'a***@example.com' },
      projects: this.me_.projects.map((p) => ({
        projectId: p.id,
        name: p.name,
        enforcedMethod: null,
        effectiveMethod: this.totp.enrolled ? ('totp' as const) : ('email' as const),
      })),
    };
  }
  async getMfaStatus() {
    this.record('getMfaStatus');
    return this.mfaStatus();
  }
  async startTotpEnrollment() {
    this.record('startTotpEnrollment');
    if (this.totp.enrolled) throw new ApiError(409, 'conflict', 'an authenticator app is already set up for you');
    return { secret: 'JBSWY3DPEHPK3PXP', uri: 'otpauth://totp/Portcullis:ada%40example.com?secret=JBSWY3DPEHPK3PXP' };
  }
  async confirmTotpEnrollment(code: string) {
    this.record('confirmTotpEnrollment', code);
    if (code !== this.totp.code) throw new ApiError(400, 'mfa_invalid', 'the code is not valid');
    this.totp.enrolled = true;
    return this.mfaStatus();
  }
  async removeTotp(code: string) {
    this.record('removeTotp', code);
    if (code !== this.totp.code) throw new ApiError(400, 'mfa_invalid', 'the code is not valid');
    this.totp.enrolled = false;
    return this.mfaStatus();
  }
  async listSessions(filters: { state?: string; projectId?: string }) {
    this.record('listSessions', filters);
    return page(this.sessions.filter((s) => (!filters.state || s.state === filters.state) && s.projectId === filters.projectId));
  }
  async getSession(id: string) {
    this.record('getSession', id);
    const s = this.sessions.find((x) => x.id === id);
    if (!s) throw new ApiError(404, 'not_found', `no session ${id}`);
    return s;
  }
  async getSessionLogs(id: string) {
    this.record('getSessionLogs', id);
    return page(this.logs.filter((e) => e.sessionId === id));
  }
  /** As the server: a listed session that is active ends (stopped); one that ended already is refused. */
  async stopSession(id: string) {
    this.record('stopSession', id);
    const listed = this.sessions.find((x) => x.id === id);
    if (!listed) return sessionDto({ id, state: 'ended', endReason: 'stopped' });
    if (listed.state !== 'active') throw new ApiError(409, 'session_not_active', `session ${id} is not active`);
    Object.assign(listed, { state: 'ended', endReason: 'stopped', endedAt: new Date().toISOString() });
    return { ...listed };
  }
  async terminateSession(id: string) {
    this.record('terminateSession', id);
    return sessionDto({ id, state: 'terminated', endReason: 'terminated' });
  }
  /** As the server: admins see their projects' requests, members their own; `mine` only one's own. */
  async listAccessRequests(filters: { state?: AccessRequestState; mine?: boolean; projectId?: string } = {}) {
    this.record('listAccessRequests', filters);
    const me = this.me_.user.id;
    const admin = (projectId: string) => this.me_.projects.some((p) => p.id === projectId && p.role === 'admin');
    return page(
      this.accessRequests
        .filter((r) => (filters.mine ? r.requesterUserId === me : r.requesterUserId === me || admin(r.projectId)))
        .filter((r) => !filters.state || r.state === filters.state)
        .map((r) => ({ ...r })),
    );
  }
  /** Holds a long poll (`waitSeconds`) until the request is decided or the caller aborts. */
  async getAccessRequest(id: string, options: { waitSeconds?: number; signal?: AbortSignal } = {}) {
    this.record('getAccessRequest', id);
    if (this.requestById(id).state === 'pending' && options.waitSeconds) {
      const decisions = this.decisions;
      await new Promise<void>((resolve, reject) => {
        const finish = (error?: Error) => {
          clearTimeout(timer);
          decisions.off('decided', onDecided);
          options.signal?.removeEventListener('abort', onAbort);
          if (error) reject(error);
          else resolve();
        };
        const timer = setTimeout(() => finish(), options.waitSeconds! * 1000);
        timer.unref();
        const onDecided = (decided: string) => decided === id && finish();
        const onAbort = () => finish(new ApiError(0, 'network_error', 'the request was aborted'));
        decisions.on('decided', onDecided);
        options.signal?.addEventListener('abort', onAbort);
      });
    }
    return { ...this.requestById(id) };
  }
  async approveAccessRequest(id: string, input: { note?: string; durationSeconds?: number } = {}) {
    this.record('approveAccessRequest', id, input);
    const r = this.decidable(id);
    return this.decide(id, {
      state: 'approved',
      note: input.note ?? null,
      decidedByEmail: this.me_.user.email,
      grantExpiresAt: new Date(Date.now() + r.durationSeconds * 1000).toISOString(),
    });
  }
  async denyAccessRequest(id: string, input: { note?: string } = {}) {
    this.record('denyAccessRequest', id, input);
    this.decidable(id);
    return this.decide(id, { state: 'denied', note: input.note ?? null, decidedByEmail: this.me_.user.email });
  }
  async cancelAccessRequest(id: string) {
    this.record('cancelAccessRequest', id);
    return this.decide(id, { state: 'cancelled' });
  }
  /** Changes a request as someone else would (another admin deciding, the clock running out) and answers long polls. */
  decide(id: string, change: Partial<AccessRequestDto>): AccessRequestDto {
    const r = this.requestById(id);
    Object.assign(r, { decidedAt: change.state === 'cancelled' ? null : new Date().toISOString() }, change);
    this.decisions.emit('decided', id);
    return { ...r };
  }
  private requestById(id: string): AccessRequestDto {
    const r = this.accessRequests.find((x) => x.id === id);
    if (!r) throw new ApiError(404, 'not_found', `no access request ${id}`);
    return r;
  }
  private decidable(id: string): AccessRequestDto {
    const r = this.requestById(id);
    if (r.requesterUserId === this.me_.user.id) {
      throw new ApiError(403, 'self_approval', 'you made this request: another admin of the project must approve or deny it');
    }
    if (r.state !== 'pending') throw new ApiError(409, 'request_not_pending', `the access request ${id} is already ${r.state}`);
    return r;
  }
}

/** An access handle whose end the test controls. */
export class FakeHandle extends EventEmitter<AccessEvents> implements AccessHandleLike {
  stopped = 0;
  ended = false;
  constructor(
    readonly session: SessionDto,
    readonly uri = 'mongodb://127.0.0.1:27999/',
    readonly port = 27999,
    readonly expiresAt = new Date(Date.parse(session.expiresAt)),
  ) {
    super();
  }
  end(ended: AccessEnded): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('ended', ended);
  }
  stats() {
    return { connections: 0, activeConnections: 0, bytesIn: 0, bytesOut: 0 };
  }
  async stop(): Promise<void> {
    this.stopped++;
    this.end({ reason: 'stopped', message: 'the session was stopped' });
  }
}

/**
 * A startAccess that asks for MFA codes until `acceptCode` is given, then hands out FakeHandles. With `approval`, a
 * pending request is first waited on through proxy-core's own waitForApproval, against the FakeApi (a test decides
 * it with `api.decide`); an approved request is a grant, as at the server.
 */
export function fakeStartAccess(options: { mfaCode?: string; fail?: Error; approval?: { api: FakeApi; request: AccessRequestDto } } = {}) {
  const started: Array<{ options: Parameters<StartAccessLike>[0]; handle: FakeHandle }> = [];
  /** Every call, also those that failed or were cancelled. */
  const requested: Array<Parameters<StartAccessLike>[0]> = [];
  const challenge: AccessMfaChallenge = { kind: 'mfa', challengeId: 'mfa_1', method: 'totp', expiresAt: '2027-01-01T00:00:00.000Z' };
  const start: StartAccessLike = async (o) => {
    requested.push(o);
    if (options.fail) throw options.fail;
    if (options.approval) {
      const { api, request } = options.approval;
      if (!api.accessRequests.includes(request)) api.accessRequests.push(request);
      if (request.state !== 'approved') {
        if (!o.onApprovalPending)
          throw new AccessRequestClosed('pending', request.id, `this account requires approval; request ${request.id} waits`);
        if (request.state !== 'pending') Object.assign(request, { state: 'pending', decidedAt: null, decidedByEmail: null, note: null });
        await waitForApproval(api as never, { ...request }, { onPending: o.onApprovalPending, signal: o.signal });
      }
    }
    if (options.mfaCode) {
      let error: string | undefined;
      for (;;) {
        const code = await o.onMfa?.(challenge, { error });
        if (code === undefined) throw new Error('access cancelled: no MFA code was given');
        if (code === options.mfaCode) break;
        error = 'the code is not valid';
      }
    }
    const handle = new FakeHandle(sessionDto({ id: `ses_${started.length + 1}`, accountId: o.accountId }));
    started.push({ options: o, handle });
    return handle;
  };
  return { start, started, requested };
}
