/**
 * Every command the extension registers, in one frozen map. package.json declares the same ids
 * (commands-manifest.test.ts checks both directions).
 */
export const EXTENSION_COMMANDS = Object.freeze({
  signIn: 'portcullis.signIn',
  signOut: 'portcullis.signOut',
  refresh: 'portcullis.refresh',
  addResource: 'portcullis.addResource',
  editResource: 'portcullis.editResource',
  deleteResource: 'portcullis.deleteResource',
  addAccount: 'portcullis.addAccount',
  deleteAccount: 'portcullis.deleteAccount',
  editAccountPolicy: 'portcullis.editAccountPolicy',
  access: 'portcullis.access',
  copyCliCommand: 'portcullis.copyCliCommand',
  copyConnectionUri: 'portcullis.copyConnectionUri',
  openMongosh: 'portcullis.openMongosh',
  stopSession: 'portcullis.stopSession',
  terminateSession: 'portcullis.terminateSession',
  openSessionLog: 'portcullis.openSessionLog',
  showActiveSessions: 'portcullis.showActiveSessions',
  enrollTotp: 'portcullis.enrollTotp',
  approveAccessRequest: 'portcullis.approveAccessRequest',
  denyAccessRequest: 'portcullis.denyAccessRequest',
  cancelAccessRequest: 'portcullis.cancelAccessRequest',
  openCollection: 'portcullis.openCollection',
  loadMoreDocuments: 'portcullis.loadMoreDocuments',
  editAccount: 'portcullis.editAccount',
  testConnection: 'portcullis.testConnection',
  removeTotp: 'portcullis.removeTotp',
} as const);

export type ExtensionCommand = (typeof EXTENSION_COMMANDS)[keyof typeof EXTENSION_COMMANDS];

/** Context keys the extension sets; package.json `when` clauses read them. */
export const CONTEXT_KEYS = Object.freeze({
  signedIn: 'portcullis.signedIn',
  isAdmin: 'portcullis.isAdmin',
  hasLocalSessions: 'portcullis.hasLocalSessions',
} as const);

export const VIEW_IDS = Object.freeze({
  container: 'portcullis',
  resources: 'portcullis.resources',
  sessions: 'portcullis.sessions',
  accessRequests: 'portcullis.accessRequests',
} as const);
