/**
 * Stops sessions that are still running when the process exits without calling stop() (an uncaught error, a
 * plain process.exit). An 'exit' handler cannot wait for a request, so it runs one short child process
 * synchronously that sends POST /sessions/:id/stop; the bearer token reaches it on stdin, never in argv or env.
 */
import { spawnSync } from 'node:child_process';

export interface ExitStop {
  /** Full URL of POST /api/v1/sessions/:id/stop. */
  url: string;
  token: string;
  /** PEM of a private CA the server's certificate comes from (proxy-core/server-trust.ts). */
  ca?: string;
  /** Local cleanup that must run synchronously (closing the listener). */
  closeLocal(): void;
}

const pending = new Set<ExitStop>();
let hooked = false;

const CHILD_SCRIPT = `
let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', async () => {
  const { urls, token, ca } = JSON.parse(input);
  // node:http(s) rather than fetch: it takes a private CA.
  await Promise.all(urls.map((u) => new Promise((done) => {
    const url = new URL(u);
    const request = require(url.protocol === 'https:' ? 'node:https' : 'node:http').request(url, {
      method: 'POST',
      headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
      ca: ca || undefined,
      timeout: 2500,
    }, (response) => { response.resume(); response.on('end', done); response.on('error', done); });
    request.on('error', done);
    request.on('timeout', () => { request.destroy(); done(); });
    request.end('{}');
  })));
});`;

function onExit(): void {
  const entries = [...pending];
  pending.clear();
  for (const entry of entries) {
    try {
      entry.closeLocal();
    } catch {
      // exiting anyway
    }
  }
  const byToken = new Map<string, { token: string; ca?: string; urls: string[] }>();
  for (const entry of entries) {
    const key = `${entry.token}\0${entry.ca ?? ''}`;
    const group = byToken.get(key) ?? { token: entry.token, ca: entry.ca, urls: [] };
    group.urls.push(entry.url);
    byToken.set(key, group);
  }
  for (const { token, ca, urls } of byToken.values()) {
    spawnSync(process.execPath, ['-e', CHILD_SCRIPT], {
      input: JSON.stringify({ urls, token, ca }),
      timeout: 3000,
      stdio: ['pipe', 'ignore', 'ignore'],
      // In an editor's extension host execPath is Electron; this makes it behave as Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
  }
}

export function registerExitStop(entry: ExitStop): () => void {
  if (!hooked) {
    hooked = true;
    process.on('exit', onExit);
  }
  pending.add(entry);
  return () => {
    pending.delete(entry);
  };
}
