/**
 * Data streams: one per client connection, raw bytes over an HTTP Upgrade (no WebSocket framing on the hot path).
 *
 * The user's side: proxy-core sends `GET ${API_PREFIX}${RELAY_PATH}` with `Connection: Upgrade`,
 * `Upgrade: ${RELAY_UPGRADE_PROTOCOL}`, `Authorization: Ticket <ticket>` and the session id in the
 * `X-Portcullis-Session` header. The gateway's side: `GET ${API_PREFIX}${GATEWAY_STREAM_PATH}/:streamId` with the same
 * Upgrade headers and `Authorization: Bearer <gateway credential>`, after the control channel's `stream.open`.
 * (The relay address in AccessGranted is written ws(s)://; a client uses the http(s):// form of it.)
 *
 * The control plane answers both sides `HTTP/1.1 101 Switching Protocols` only once it has paired them, and from
 * then on it forwards the bytes as they are, both ways: a TLS 1.3 connection between proxy-core and the gateway
 * (tunnel/tls.ts), whose MongoDB traffic the control plane cannot read. Until then it does not read the
 * user's socket: bytes the user sends early wait in the kernel and are delivered after pairing. A refusal is an
 * HTTP error status with the API's JSON error body (`{error: {code, message}}`) and the socket closes:
 *   401 unauthenticated      the ticket (or gateway credential) is missing, expired or not for this session
 *   503 gateway_offline      the session's gateway is offline, did not pick up in time, or refused the stream
 *   410 session_not_active   the session ended while the stream waited
 *   404 not_found            (gateway side) no stream with that id is waiting for this gateway
 *   400 bad_request          not an Upgrade to RELAY_UPGRADE_PROTOCOL
 *
 * Raw sockets have no close codes: a stream just closes (FIN when one side hung up, the other side is ended
 * after it; both sides are destroyed when the session ends). A proxy whose stream closed without it closing it
 * asks `GET /sessions/:id` to learn whether (and why) the session ended.
 */
export const RELAY_PATH = '/relay';
export const RELAY_SESSION_HEADER = 'x-portcullis-session';
/** The `Upgrade` token of a data stream; a new version of the byte protocol gets a new token. */
export const RELAY_UPGRADE_PROTOCOL = 'portcullis-stream/1';
