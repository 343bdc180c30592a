/**
 * Expected failures of a command: a message that says what happened and what to do, and an exit code.
 * main.ts prints them without a stack trace; anything else is a bug and is printed with its stack.
 */
import { ApiError } from '../proxy-core/api-client';
import { EXIT_CODES, type ExitCode } from './exit-codes';

export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode = EXIT_CODES.failure) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Turns an API error into what the user should read, with a next step where there is one. */
export function cliErrorFromApi(error: ApiError, server: string): CliError {
  switch (error.code) {
    case 'network_error':
      return new CliError(error.message, EXIT_CODES.unreachable);
    case 'unauthenticated':
      return new CliError(
        `not signed in to ${server}, or the sign-in expired (${error.message}); run portcullis login --server ${server}`,
        EXIT_CODES.notSignedIn,
      );
    case 'forbidden':
      return new CliError(`${error.message} (ask a project admin if you need this)`, EXIT_CODES.forbidden);
    case 'self_approval':
      return new CliError(error.message, EXIT_CODES.forbidden);
    case 'not_found':
      return new CliError(error.message, EXIT_CODES.notFound);
    case 'gateway_offline':
      return new CliError(
        `${error.message}; the gateway serving this resource is not connected: start it (portcullis gateway start) or ask an admin, then try again`,
        EXIT_CODES.gatewayOffline,
      );
    case 'mfa_required':
    case 'mfa_invalid':
    case 'mfa_expired':
    case 'mfa_not_configured':
      return new CliError(error.message, EXIT_CODES.mfa);
    case 'rate_limited':
      // The server's message says how long to wait (seconds for a slowed sign-in, minutes for a locked one).
      return new CliError(error.message, EXIT_CODES.failure);
    default:
      return new CliError(error.message, EXIT_CODES.failure);
  }
}

export function toCliError(error: unknown, server: string | undefined): CliError | undefined {
  if (error instanceof CliError) return error;
  if (error instanceof ApiError) return cliErrorFromApi(error, server ?? 'URL');
  return undefined;
}
