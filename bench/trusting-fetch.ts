/**
 * A `fetch` for the bench's own admin calls to a control plane served with the bench's test CA. The child processes
 * trust that CA through NODE_EXTRA_CA_CERTS, but Node reads that variable only at start-up, before the bench has
 * made the CA, and Node 20's global fetch takes no CA option. Enough of fetch for ApiClient: method, headers, a
 * string body, an abort signal.
 */
import { request } from 'node:https';

export function fetchTrusting(ca: string): typeof fetch {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const req = request(url, {
        method: init.method ?? 'GET',
        headers: init.headers as Record<string, string>,
        ca,
        signal: init.signal ?? undefined,
      });
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (typeof value === 'string') headers.set(name, value);
          }
          const status = res.statusCode ?? 500;
          // A Response may not carry a body with these statuses.
          const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(body, { status, headers }));
        });
      });
      req.end(typeof init.body === 'string' ? init.body : undefined);
    });
}
