import { displayMessage } from '../../proxy-core/display-text';

/**
 * A one-line, user-facing description of a failure. ApiError messages are written for users already, but they
 * (and ours) quote names other users chose, so control and bidi characters are escaped here, for every
 * notification and tree line that shows an error.
 */
export function describeError(error: unknown): string {
  return displayMessage(error instanceof Error ? error.message || error.name : String(error));
}
