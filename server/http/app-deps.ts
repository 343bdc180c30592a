/** What the HTTP layer needs from the rest of the control plane. */
import type { EventEmitter } from 'node:events';
import type { ConnectionTestDto } from '../../protocol/api';
import type { ReplicaInfo } from '../../protocol/gateway-channel';
import type { MongoTarget } from '../../protocol/target';
import type { ControlPlaneMetrics } from '../metrics/control-plane-metrics';
import type { Actor, ServiceContext } from '../services/context';
import type { AccessDeps } from '../sessions/access';
import type { SessionLifecycle } from '../sessions/lifecycle';
import type { SsoService } from '../sso/sso-service';

export interface GatewayEvents {
  /** An admin deleted the gateway: its control channel should be closed. */
  deleted: [gatewayId: string];
}

/** This replica among those sharing the database, for `GET /health`. */
export interface ReplicaStatus {
  replicaId: string;
  replicas: ReplicaInfo[];
  connectedGateways: number;
  streams: number;
}

export interface AppDeps {
  ctx: ServiceContext;
  sessions: SessionLifecycle;
  access: AccessDeps;
  /** Single sign-on, when the server has it set up (PORTCULLIS_SSO_ISSUER). */
  sso?: SsoService;
  gatewayEvents: EventEmitter<GatewayEvents>;
  metrics: ControlPlaneMetrics;
  replicaStatus(): ReplicaStatus;
  /** An account's policy or credentials changed: its running sessions' gateways fetch it again (within a second). */
  policyChanged(accountId: string): Promise<void>;
  /** The console's second sign-in step (the user's authenticator code, if they set one up); throws to refuse. */
  secondFactor?: (user: Actor, code: string | undefined) => Promise<void>;
  /** Asks the gateway (over its channel to this replica) to test a target; null when it has none here. */
  testOnGateway(gatewayId: string, target: MongoTarget): Promise<ConnectionTestDto> | null;
}
