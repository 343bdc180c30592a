/** What every service function works with: the store, the keys and the settings. */
import type { ControlPlaneConfig } from '../config';
import type { Store } from '../store/store';
import type { StoreProjectKeys } from './project-keys';

export interface ServiceContext {
  store: Store;
  /** Each call names its store handle: inside `store.transaction`, always the transaction's. */
  keys: StoreProjectKeys;
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
