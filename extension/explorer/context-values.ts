import type { AccessRequestState } from '../../protocol/api';

/**
 * Tree item `contextValue`s. package.json menus match them with regular expressions, e.g.
 * `viewItem =~ /^account\b.*\.admin/`. Flags come in a fixed order: kind, then `.active`/`.local`, then `.own`, then `.admin`.
 */
export type ProjectContextValue = `project${'' | '.admin'}`;
export type ResourceContextValue = `resource${'' | '.admin'}`;
export type AccountContextValue = `account${'' | '.active'}${'' | '.admin'}`;
/** `.own` marks an active session of the signed-in user that runs elsewhere (the CLI, another window or machine). */
export type SessionContextValue = `session${'.local' | '.active' | '.ended'}${'' | '.own'}${'' | '.admin'}`;

export function projectContextValue(admin: boolean): ProjectContextValue {
  return admin ? 'project.admin' : 'project';
}

export function resourceContextValue(admin: boolean): ResourceContextValue {
  return admin ? 'resource.admin' : 'resource';
}

export function accountContextValue(activeHere: boolean, admin: boolean): AccountContextValue {
  return `account${activeHere ? '.active' : ''}${admin ? '.admin' : ''}`;
}

export function sessionContextValue(kind: 'local' | 'active' | 'ended', admin: boolean, own = false): SessionContextValue {
  return `session.${kind}${own && kind === 'active' ? '.own' : ''}${admin ? '.admin' : ''}`;
}

/**
 * An access request: its state, then what the signed-in user may do with it: `.decide` (an admin of its project,
 * not the requester: Approve, Deny), `.own` (the requester: Cancel while pending).
 */
export type AccessRequestContextValue = `accessRequest.${AccessRequestState}${'' | '.decide' | '.own'}`;

export function accessRequestContextValue(state: AccessRequestState, relation: 'decide' | 'own' | 'other'): AccessRequestContextValue {
  return relation === 'other' ? `accessRequest.${state}` : `accessRequest.${state}.${relation}`;
}
