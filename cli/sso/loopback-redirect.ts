/**
 * The CLI's redirect URI for single sign-on, as RFC 8252 (OAuth for native apps, section 7.3) describes: a listener
 * on 127.0.0.1 on a port the system picks, for one arrival of the browser. Anything else reaching it (another path,
 * another state) is answered 404 and ignored.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackRedirect {
  /** http://127.0.0.1:PORT/portcullis/sso */
  uri: string;
  /** The query the browser arrived with (code, state, error), once its `state` matches. */
  arrival: Promise<URLSearchParams>;
  /** Answers the waiting browser with a short page, then stops listening. */
  finish(page: { ok: boolean; text: string }): Promise<void>;
}

const PATH = '/portcullis/sso';

export async function listenForRedirect(expectedState: string): Promise<LoopbackRedirect> {
  let resolveArrival: (query: URLSearchParams) => void = () => {};
  const arrival = new Promise<URLSearchParams>((resolve) => {
    resolveArrival = resolve;
  });
  let waiting: http.ServerResponse | undefined;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== PATH || url.searchParams.get('state') !== expectedState || waiting) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not a Portcullis sign-in.');
      return;
    }
    waiting = res;
    resolveArrival(url.searchParams);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}${PATH}`,
    arrival,
    async finish(page) {
      const title = page.ok ? 'Signed in to Portcullis' : 'Portcullis sign-in failed';
      waiting
        ?.writeHead(page.ok ? 200 : 403, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'" })
        .end(
          `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${escapeHtml(page.text)}</p></body></html>`,
        );
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
