/**
 * What the extension uses from proxy-core's startAccess (proxy-core/access.ts). The composition root passes
 * the real function; unit tests pass one that hands out handles whose end they control.
 */
import type { AccessEvents, AccessHandle, AccessOptions } from '../../proxy-core/access';

export type AccessHandleLike = AccessHandle;
export type AccessEnded = AccessEvents['ended'][0];
export type StartAccessLike = (options: AccessOptions) => Promise<AccessHandle>;
