/** The HTTP status that goes with each API error code. */
import { API_ERROR_CODES, type ApiErrorCode } from '../../protocol/api';

const C = API_ERROR_CODES;

export const STATUS_OF_CODE: Readonly<Record<ApiErrorCode, number>> = Object.freeze({
  [C.badRequest]: 400,
  [C.validation]: 400,
  [C.unauthenticated]: 401,
  [C.forbidden]: 403,
  [C.notFound]: 404,
  [C.conflict]: 409,
  [C.rateLimited]: 429,
  // An MFA answer that is wrong or stale is not a bad sign-in token: 403 keeps clients from signing out.
  [C.mfaRequired]: 403,
  [C.mfaInvalid]: 403,
  [C.mfaExpired]: 403,
  [C.mfaNotConfigured]: 403,
  // The resource exists but cannot be reached right now: retry later.
  [C.gatewayOffline]: 503,
  [C.sessionNotActive]: 409,
  [C.reasonRequired]: 400,
  [C.selfApproval]: 403,
  [C.requestNotPending]: 409,
  [C.ssoNotConfigured]: 404,
  // RFC 8628 answers a device code that is not finished yet with 400 authorization_pending.
  [C.ssoPending]: 400,
  [C.ssoRefused]: 403,
  [C.passwordSignInDisabled]: 403,
  [C.unavailable]: 503,
  [C.internal]: 500,
});
