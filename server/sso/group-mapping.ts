/** Which projects, with which role, the identity provider's groups give a user. */
import type { Role } from '../../protocol/api';
import type { GroupMap } from './sso-config';

/** Project (as named in the map) → role; admin wins when several groups name the same project. */
export function membershipsFromGroups(groups: readonly string[], map: GroupMap): Map<string, Role> {
  const out = new Map<string, Role>();
  for (const group of groups) {
    for (const { project, role } of map.get(group) ?? []) {
      if (out.get(project) !== 'admin') out.set(project, role);
    }
  }
  return out;
}

/** Every project the map names: the mapping owns their memberships (others are managed by hand). */
export function mappedProjects(map: GroupMap): Set<string> {
  return new Set([...map.values()].flatMap((items) => items.map((i) => i.project)));
}

/**
 * The groups in a claim: a list of strings, or one string (some providers send a single group so). Anything else
 * (objects, numbers) is not a group name and is left out.
 */
export function groupsOfClaim(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}
