/**
 * Exit codes of the `portcullis` command, so scripts can tell failures apart. Documented in `portcullis --help`.
 */
export const EXIT_CODES = Object.freeze({
  ok: 0,
  /** Wrong usage, or an API error without a more specific code below. */
  failure: 1,
  /** Not signed in, or the sign-in expired or was revoked. */
  notSignedIn: 2,
  /** The control plane could not be reached. */
  unreachable: 3,
  /** No such project, resource, account, gateway or session. */
  notFound: 4,
  /** Not allowed (for example: an admin command run by a member). */
  forbidden: 5,
  /** MFA was required and not completed, or is not configured. */
  mfa: 6,
  /** The resource's gateway is offline. */
  gatewayOffline: 7,
  /** The local port asked for with --port is in use. */
  portInUse: 8,
  /** The session was ended from elsewhere (an admin terminated it, it expired, or its gateway went away). */
  sessionEndedRemotely: 9,
  /** The account requires approval, and no grant came of it: the request waits (--no-wait), or was denied, withdrawn or expired. */
  approval: 10,
  /** Interrupted before finishing (Ctrl+C while waiting for input). */
  interrupted: 130,
} as const);

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  wrong usage, or an error from the server
  2  not signed in (run portcullis login --server URL)
  3  the server could not be reached
  4  no such project, resource, account, gateway or session
  5  not allowed (admin only)
  6  MFA required and not completed
  7  the resource's gateway is offline
  8  the local port is in use
  9  the session was ended from elsewhere (terminated, expired, gateway offline)
 10  the account requires approval: the request is still waiting (--no-wait), or was denied, withdrawn or expired`;
