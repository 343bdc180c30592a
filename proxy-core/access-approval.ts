/**
 * Waiting for an access request (accounts that require approval): holds a long poll on the request until an admin
 * decides it, it expires, or the caller gives up (then the request is withdrawn, so admins do not approve access
 * that nobody is waiting for). Survives a control plane that is briefly unreachable.
 */
import type { AccessRequestDto, AccessRequestState } from '../protocol/api';
import { type ApiClient, ApiError } from './api-client';

/** How the request ended when it did not become a grant. */
export class AccessRequestClosed extends Error {
  constructor(
    /** pending: the caller chose not to wait. withdrawn: it stopped waiting, and the request was cancelled. */
    readonly state: Exclude<AccessRequestState, 'approved'> | 'withdrawn',
    readonly requestId: string,
    message: string,
  ) {
    super(message);
    this.name = 'AccessRequestClosed';
  }
}

export interface ApprovalWaitOptions {
  /** Told once that the request is waiting (with its id, for `portcullis request …`). */
  onPending?: (request: AccessRequestDto) => void;
  /** Aborting stops the wait and cancels the request. */
  signal?: AbortSignal;
  /** Seconds each long poll is held by the server. Default 20. */
  pollSeconds?: number;
  /** Gives up after the control plane has been unreachable this long. Default 60 s. */
  unreachableForMs?: number;
}

export async function waitForApproval(
  api: ApiClient,
  request: AccessRequestDto,
  options: ApprovalWaitOptions = {},
): Promise<AccessRequestDto> {
  options.onPending?.(request);
  let current = request;
  let unreachableSince: number | undefined;
  for (;;) {
    if (options.signal?.aborted) {
      await api.cancelAccessRequest(request.id).catch(() => undefined);
      throw new AccessRequestClosed('withdrawn', request.id, `stopped waiting; the access request ${request.id} was withdrawn`);
    }
    if (current.state !== 'pending') return settle(current);
    try {
      current = await api.getAccessRequest(request.id, { waitSeconds: options.pollSeconds ?? 20, signal: options.signal });
      unreachableSince = undefined;
    } catch (error) {
      if (options.signal?.aborted) continue;
      if (!(error instanceof ApiError) || error.code !== 'network_error') throw error;
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince > (options.unreachableForMs ?? 60_000)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function settle(request: AccessRequestDto): AccessRequestDto {
  const note = request.note ? `: ${request.note}` : '';
  switch (request.state) {
    case 'approved':
      return request;
    case 'denied':
      throw new AccessRequestClosed(
        'denied',
        request.id,
        `${request.decidedByEmail ?? 'an admin'} denied the access request ${request.id}${note}`,
      );
    case 'cancelled':
      throw new AccessRequestClosed('cancelled', request.id, `the access request ${request.id} was cancelled`);
    default:
      throw new AccessRequestClosed(
        'expired',
        request.id,
        request.decidedAt
          ? `the grant of access request ${request.id} has ended; ask again`
          : `the access request ${request.id} expired before an admin answered it; ask again, or ask an admin directly`,
      );
  }
}
