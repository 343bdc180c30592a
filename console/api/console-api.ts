/**
 * The console's client of the JSON API: same origin, signed in by the HttpOnly cookie (the page never sees the
 * token), with the CSRF token in a header on every state-changing request. Errors come back as ApiError with the
 * API's code and message, which the pages show as they are.
 */
import { API_PREFIX, type ApiErrorBody, type ApiErrorCode, type Page } from '../../protocol/api';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode | 'network',
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

// A refused sign-in is shown on its own page, not answered by going to the sign-in page.
const SIGN_IN_PATHS = ['/console/sign-in', '/console/sso'];

let csrfToken: string | undefined;
let onSignedOut: (() => void) | undefined;

/** The CSRF token of the current sign-in (from the sign-in answer or GET /console/session). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when the server says the sign-in is gone (401), so the app shows the sign-in page. */
export function setSignedOutHandler(handler: () => void): void {
  onSignedOut = handler;
}

export type Query = Record<string, string | number | boolean | undefined>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function apiCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(`${API_PREFIX}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'network', 'the Portcullis server cannot be reached: check your connection and try again');
  }
  if (response.status === 204) return undefined as T;
  const data = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) {
    const error = (data as ApiErrorBody | undefined)?.error;
    if (response.status === 401 && !SIGN_IN_PATHS.includes(path)) onSignedOut?.();
    throw new ApiError(response.status, error?.code ?? 'internal_error', error?.message ?? `the server answered HTTP ${response.status}`);
  }
  return data as T;
}

export const api = {
  get: <T>(path: string, query?: Query) => apiCall<T>('GET', withQuery(path, query)),
  post: <T>(path: string, body?: unknown) => apiCall<T>('POST', path, body ?? {}),
  patch: <T>(path: string, body: unknown) => apiCall<T>('PATCH', path, body),
  put: <T>(path: string, body: unknown) => apiCall<T>('PUT', path, body),
  delete: <T>(path: string, body?: unknown) => apiCall<T>('DELETE', path, body),
  page: <T>(path: string, query: Query, cursor: string | undefined) => apiCall<Page<T>>('GET', withQuery(path, { ...query, cursor })),
};

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
