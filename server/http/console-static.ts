/**
 * Serves the web console (dist/console, built by scripts/build.mjs) at `/`, beside the API under /api/v1, with a
 * strict Content-Security-Policy: scripts, styles and connections only from this origin, no inline script or
 * style, no frames. Every page answer also gets the usual hardening headers.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { API_PREFIX, CONSOLE_SSO_CALLBACK_PATH } from '../../protocol/api';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // QR codes for authenticator apps are drawn as data: images.
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The built console: next to the bundle that runs (dist/cli.js → dist/console), or dist/console from the sources. */
export function defaultConsoleDir(): string | undefined {
  const candidates = [join(__dirname, 'console'), join(__dirname, '..', '..', 'dist', 'console')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

export function addConsole(app: FastifyInstance, consoleDir: string | undefined): void {
  app.addHook('onSend', async (request, reply) => {
    // Also on the API: its JSON is never to be read as a script or a page.
    reply.header('x-content-type-options', 'nosniff');
    if (request.url.startsWith(`${API_PREFIX}/`)) return;
    reply.header('content-security-policy', CONSOLE_CSP);
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
  });
  if (!consoleDir) {
    app.get('/', { config: { auth: 'none' } }, async (_request, reply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web console is not built: run npm run build (it writes dist/console), then start the server again.\n'),
    );
    return;
  }
  // Pages are routed after `#`, so the files are all there is: index.html at `/`, the bundle and its styles.
  app.register(fastifyStatic, { root: consoleDir, prefix: '/', wildcard: false, index: ['index.html'], cacheControl: false });
  // Except where single sign-on comes back: a redirect URI has no fragment, so the page is served at a path too.
  app.get(CONSOLE_SSO_CALLBACK_PATH, { config: { auth: 'none' }, logLevel: 'warn' }, async (_request, reply) =>
    reply.header('cache-control', 'no-store').sendFile('index.html'),
  );
}

/** The line `portcullis start` and `portcullis server` print about the console. */
export function consoleNotice(url: string, consoleDir: string | undefined = defaultConsoleDir()): string {
  return consoleDir
    ? `Web console: ${url}/ (open it in a browser; same sign-in as the CLI)`
    : 'Web console: not built, so not served (run npm run build, which writes dist/console, then start again)';
}
