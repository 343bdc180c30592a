/**
 * The one error type services throw for expected failures. The HTTP layer turns it into
 * `{ error: { code, message } }` with the status that belongs to the code.
 */
import { API_ERROR_CODES, type ApiErrorCode } from '../../protocol/api';

export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** Seconds the client should wait (sent as Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ServiceError(API_ERROR_CODES.notFound, `${what} not found`);
export const forbidden = (message: string) => new ServiceError(API_ERROR_CODES.forbidden, message);
export const conflict = (message: string) => new ServiceError(API_ERROR_CODES.conflict, message);
export const invalid = (message: string) => new ServiceError(API_ERROR_CODES.validation, message);
