/** What the HTTP layer needs from the rest of the control plane. */
import type { EventEmitter } from 'node:events';
import type { FailureRateLimiter } from '../auth/rate-limiter';
import type { ServiceContext } from '../services/context';
import type { AccessDeps } from '../sessions/access';
import type { SessionLifecycle } from '../sessions/lifecycle';

export interface GatewayEvents {
  /** An admin deleted the gateway: its control channel should be closed. */
  deleted: [gatewayId: string];
}

export interface AppDeps {
  ctx: ServiceContext;
  sessions: SessionLifecycle;
  access: AccessDeps;
  /** Failed gateway enrollments per client address. */
  enrollLimiter: FailureRateLimiter;
  gatewayEvents: EventEmitter<GatewayEvents>;
}
