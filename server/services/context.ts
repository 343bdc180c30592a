/** What every service function works with: the store, the keys and the settings. */
import type { ControlPlaneConfig } from '../config';
import type { ProjectKeys } from '../secrets/project-keys';
import type { Store } from '../store/store';

export interface ServiceContext {
  store: Store;
  keys: ProjectKeys;
  /** Wraps new projects' data keys. */
  rootKey: Buffer;
  config: ControlPlaneConfig;
  now(): Date;
}

/** The signed-in user on whose behalf a service acts. */
export interface Actor {
  userId: string;
  email: string;
}

/** `ServiceContext` time as stored: ISO-8601 UTC text. */
export function nowIso(ctx: ServiceContext): string {
  return ctx.now().toISOString();
}
