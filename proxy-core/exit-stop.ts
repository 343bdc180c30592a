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
  /** Local cleanup that must run synchronously (closing the listener). */
  closeLocal(): void;
}

const pending = new Set<ExitStop>();
let hooked = false;

const CHILD_SCRIPT = `
let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', async () => {
  const { urls, token } = JSON.parse(input);
  await Promise.all(urls.map((url) => fetch(url, {
    method: 'POST',
    headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(2500),
  }).catch(() => {})));
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
  const byToken = new Map<string, string[]>();
  for (const entry of entries) byToken.set(entry.token, [...(byToken.get(entry.token) ?? []), entry.url]);
  for (const [token, urls] of byToken) {
    spawnSync(process.execPath, ['-e', CHILD_SCRIPT], {
      input: JSON.stringify({ urls, token }),
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
