/**
 * DTO builders and an in-memory API client for the extension's unit tests. They stand in for the control
 * plane only in unit tests; the UI test (test/e2e/extension-ui.test.ts) runs the real server and gateway.
 */
import { EventEmitter } from 'node:events';
import type { AccessMfaChallenge, AccountDto, GatewayDto, MeDto, Page, ResourceDto, SessionDto } from '../../protocol/api';
import type { StoredSessionLogEvent } from '../../protocol/session-log';
import type { AccessEvents } from '../../proxy-core/access';
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
  /** When set, every call fails with it. */
  failWith: Error | undefined;

  constructor(readonly server: string) {}

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.failWith) throw this.failWith;
  }

  setToken(token: string | undefined) {
    this.token = token;
  }
  async login(request: { email: string; password: string }) {
    this.record('login', request);
    if (request.password !== 'right password') throw new ApiError(401, 'unauthenticated', 'wrong email or password');
    return { token: 'tok_secret', expiresAt: '2027-01-01T00:00:00.000Z', user: this.me_.user };
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
  async stopSession(id: string) {
    this.record('stopSession', id);
    return sessionDto({ id, state: 'ended', endReason: 'stopped' });
  }
  async terminateSession(id: string) {
    this.record('terminateSession', id);
    return sessionDto({ id, state: 'terminated', endReason: 'terminated' });
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

/** A startAccess that asks for MFA codes until `acceptCode` is given, then hands out FakeHandles. */
export function fakeStartAccess(options: { mfaCode?: string; fail?: Error } = {}) {
  const started: Array<{ options: Parameters<StartAccessLike>[0]; handle: FakeHandle }> = [];
  const challenge: AccessMfaChallenge = { kind: 'mfa', challengeId: 'mfa_1', method: 'totp', expiresAt: '2027-01-01T00:00:00.000Z' };
  const start: StartAccessLike = async (o) => {
    if (options.fail) throw options.fail;
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
  return { start, started };
}
