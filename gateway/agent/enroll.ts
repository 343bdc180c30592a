/**
 * Enrollment: exchanges a one-time enrollment token (from an admin) for the gateway's own long-lived credential.
 */

import { hostname } from 'node:os';
import { API_PREFIX, type ApiErrorBody } from '../../protocol/api';
import { GATEWAY_ENROLL_PATH, type GatewayEnrollRequest, type GatewayEnrollResponse } from '../../protocol/gateway-channel';
import { isCertificateError, untrustedCertificateMessage } from '../../proxy-core/api-client';
import { fetchTrusting } from '../../proxy-core/server-trust';

export interface EnrollOptions {
  /** Base address of the control plane, e.g. https://portcullis.example.com. */
  server: string;
  /** The enrollment token an admin created (single use, short-lived). */
  token: string;
  /** Name shown to admins; defaults to the host name. */
  name?: string;
  /** PEM of a private CA that issued the control plane's certificate. */
  ca?: string;
  timeoutMs?: number;
}

export async function enrollGateway(options: EnrollOptions): Promise<GatewayEnrollResponse> {
  const base = options.server.replace(/\/+$/, '').replace(new RegExp(`${API_PREFIX}$`), '');
  const url = `${base}${API_PREFIX}${GATEWAY_ENROLL_PATH}`;
  const body: GatewayEnrollRequest = { token: options.token, name: options.name ?? hostname() };
  let response: Response;
  try {
    response = await fetchTrusting(options.ca)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    if (isCertificateError(cause)) throw new Error(untrustedCertificateMessage(base, cause, options.ca !== undefined));
    throw new Error(`could not reach the control plane at ${base} to enroll (${cause}); check the address and that it is running`);
  }
  const text = await response.text();
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      message = (JSON.parse(text) as ApiErrorBody).error.message ?? message;
    } catch {
      // not our error format: keep the status
    }
    const hint = response.status === 401 || response.status === 403 ? '; ask an admin for a new enrollment token' : '';
    throw new Error(`enrollment was refused: ${message}${hint}`);
  }
  const answer = JSON.parse(text) as GatewayEnrollResponse;
  if (typeof answer.gatewayId !== 'string' || typeof answer.credential !== 'string') {
    throw new Error(`the control plane at ${base} answered the enrollment without a gateway id and credential; is it a Portcullis server?`);
  }
  return { gatewayId: answer.gatewayId, credential: answer.credential };
}
