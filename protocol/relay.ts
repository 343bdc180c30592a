/**
 * The user's side of the relay. For each local client connection, proxy-core opens a WebSocket to
 * `${API_PREFIX}${RELAY_PATH}` with `Authorization: Ticket <ticket>` and the session id in the
 * `X-Portcullis-Session` header. Binary frames carry raw MongoDB bytes both ways. The control plane pairs it
 * with a gateway stream and closes it with one of these codes and a short reason text.
 */
export const RELAY_PATH = '/relay';
export const RELAY_SESSION_HEADER = 'x-portcullis-session';

export const RELAY_CLOSE_CODES = Object.freeze({
  /** Normal close of one connection (client or database hung up). */
  normal: 1000,
  /** The control plane is shutting down or restarting. */
  goingAway: 1001,
  /** The session ended; the reason text is a SessionEndReason. */
  sessionEnded: 4000,
  /** Ticket missing, expired or not for this session/user. */
  unauthorized: 4001,
  /** The session's gateway is offline or did not pick up the stream in time. */
  gatewayUnavailable: 4002,
  /** The peer of this stream went away unexpectedly. */
  peerLost: 4003,
} as const);

/**
 * Largest data frame a sender puts on a relay or gateway stream; bigger writes are split (the bytes are a
 * stream, frame boundaries mean nothing). Receivers refuse frames above RELAY_MAX_PAYLOAD_BYTES.
 */
export const RELAY_MAX_FRAME_BYTES = 256 * 1024;
export const RELAY_MAX_PAYLOAD_BYTES = 1024 * 1024;
