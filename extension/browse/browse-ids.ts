/**
 * Stable tree item ids for browse nodes: `browse:<sessionId>:<db>[:<collection>[:index:<name>]]`, names
 * URI-encoded so a `:` in a name cannot make two nodes share an id. VS Code keeps a node's expansion by its id, so a
 * refresh leaves the tree as the user left it; a new session gets new ids, and starts collapsed.
 */
export function browseId(sessionId: string, ...names: string[]): string {
  return ['browse', sessionId, ...names.map((n) => encodeURIComponent(n))].join(':');
}
