import { MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { displayMessage } from '../../proxy-core/display-text';
import { describeError } from '../commands/describe-error';

/** Browsing asked for a session this window no longer runs (it ended, or was stopped, after the tree was drawn). */
export class SessionNotRunningError extends Error {
  override readonly name = 'SessionNotRunningError';

  constructor(label: string) {
    super(`the session on ${label} is no longer running in this window; click Access on the account to start a new one`);
  }
}

/**
 * One line for a failed browse: the server's own text for a server error (a policy refusal from the gateway is
 * MongoDB error 13 with a message naming the account and the rule; the database's errors come through as they are),
 * and what to do when the local address does not answer. Never a stack.
 */
export function describeBrowseError(error: unknown): string {
  if (error instanceof MongoServerError)
    return displayMessage(error.message || `MongoDB error ${error.code ?? ''} ${error.codeName ?? ''}`.trim());
  if (error instanceof MongoServerSelectionError || error instanceof MongoNetworkError) {
    return `the session's local address did not answer (${displayMessage(error.message)}); if the session ended, click Access to start a new one`;
  }
  return describeError(error);
}
