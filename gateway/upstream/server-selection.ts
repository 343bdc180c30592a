import type { Document } from 'bson';
import { formatHostAddress, type HostAddress, READ_PREFERENCE_MODES, type ReadPreferenceMode } from './connection-string';

/** The role a server reports in its hello, in the terms of the server discovery specification. */
export const SERVER_ROLES = Object.freeze({
  standalone: 'standalone',
  mongos: 'mongos',
  primary: 'primary',
  secondary: 'secondary',
  other: 'other',
} as const);
export type ServerRole = (typeof SERVER_ROLES)[keyof typeof SERVER_ROLES];

export interface ServerCandidate {
  address: HostAddress;
  hello: Document;
  /** Round trip of the hello, to prefer the nearest server among equals. */
  roundTripMs: number;
}

/** No reachable server fits the read preference; the message lists what was found. */
export class ServerSelectionError extends Error {
  override name = 'ServerSelectionError';
}

export function roleOf(hello: Document): ServerRole {
  if (hello.isreplicaset) return SERVER_ROLES.other;
  if (hello.msg === 'isdbgrid') return SERVER_ROLES.mongos;
  if (typeof hello.setName === 'string') {
    if (hello.isWritablePrimary === true || hello.ismaster === true) return SERVER_ROLES.primary;
    if (hello.secondary === true && !hello.hidden) return SERVER_ROLES.secondary;
    return SERVER_ROLES.other;
  }
  return SERVER_ROLES.standalone;
}

function nearest(candidates: ServerCandidate[]): ServerCandidate | undefined {
  let best: ServerCandidate | undefined;
  for (const c of candidates) if (!best || c.roundTripMs < best.roundTripMs) best = c;
  return best;
}

/**
 * Picks the server a client connection will use. Standalone servers and mongos routers take any read
 * preference (it is passed on in commands); replica-set members are picked by mode. With `replicaSet`, members
 * of another set are not considered, as drivers do.
 */
export function selectServer(candidates: ServerCandidate[], mode: ReadPreferenceMode, replicaSet?: string): ServerCandidate {
  const usable = candidates.filter((c) => replicaSet === undefined || c.hello.setName === replicaSet);
  const byRole = (role: ServerRole) => usable.filter((c) => roleOf(c.hello) === role);
  const direct = nearest([...byRole(SERVER_ROLES.mongos), ...byRole(SERVER_ROLES.standalone)]);
  if (direct && replicaSet === undefined) return direct;
  const primary = nearest(byRole(SERVER_ROLES.primary));
  const secondary = nearest(byRole(SERVER_ROLES.secondary));
  let chosen: ServerCandidate | undefined;
  switch (mode) {
    case READ_PREFERENCE_MODES.primary:
      chosen = primary;
      break;
    case READ_PREFERENCE_MODES.primaryPreferred:
      chosen = primary ?? secondary;
      break;
    case READ_PREFERENCE_MODES.secondary:
      chosen = secondary;
      break;
    case READ_PREFERENCE_MODES.secondaryPreferred:
      chosen = secondary ?? primary;
      break;
    case READ_PREFERENCE_MODES.nearest:
      chosen = nearest([primary, secondary].filter((c): c is ServerCandidate => c !== undefined));
      break;
  }
  if (chosen) return chosen;
  const found = candidates.map((c) => `${formatHostAddress(c.address)} (${describeRole(c.hello)})`).join(', ') || 'none reachable';
  const setNote = replicaSet ? ` in replica set ${replicaSet}` : '';
  throw new ServerSelectionError(
    `no server${setNote} matches readPreference=${mode}; found: ${found}. Check the resource's connection string.`,
  );
}

function describeRole(hello: Document): string {
  const role = roleOf(hello);
  return typeof hello.setName === 'string' ? `${role} of ${hello.setName}` : role;
}
