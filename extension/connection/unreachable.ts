import { ApiError, isApiError } from '../../proxy-core/api-client';

/** A failure that means the control plane is not there (rather than that it refused the request). */
export function isUnreachable(error: unknown): boolean {
  if (isApiError(error, 'network_error')) return true;
  // A balancer or proxy answering for a control plane that is down or restarting.
  return error instanceof ApiError && (error.status === 502 || error.status === 503 || error.status === 504);
}
