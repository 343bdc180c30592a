/**
 * Opens an address in the user's browser: `open` on macOS, `start` on Windows, `xdg-open` elsewhere (or the program
 * named by $BROWSER). Resolves false when none could be started or it failed at once (a server without a desktop:
 * xdg-open exits non-zero), so the caller says so; the address is printed either way.
 */
import { spawn } from 'node:child_process';

export function openBrowser(url: string): Promise<boolean> {
  const [command, args] = process.env.BROWSER
    ? [process.env.BROWSER, [url]]
    : process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  return new Promise((resolve) => {
    try {
      const child = spawn(command, args, { stdio: 'ignore', detached: true });
      // A launcher that is still running after a while has handed the address to a browser.
      const timer = setTimeout(() => {
        child.unref();
        resolve(true);
      }, 3000);
      child.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code === 0);
      });
    } catch {
      resolve(false);
    }
  });
}
