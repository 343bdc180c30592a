/**
 * The web console in real Chromium, for the console-*.test.ts files: the console built by scripts/build.mjs
 * (into a folder of this run), served by a real control plane with a gateway and FerretDB (tunnel-harness), and
 * Debian's Chromium driven by playwright-core. Helpers sign in through the page, run axe-core in it, and keep
 * screenshots (test-artifacts/<name>/, and docs/images/ with PORTCULLIS_UPDATE_DOC_IMAGES=1).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../bed/code-server';
import { removeTempDir, trackTempDir } from '../bed/processes';
import { startTunnelBed, type TunnelBed, type TunnelBedOptions } from './tunnel-harness';

const ROOT = join(__dirname, '..', '..');
const DOC_IMAGES = join(ROOT, 'docs', 'images');
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface ConsoleBed {
  bed: TunnelBed;
  browser: Browser;
  /** The console's address (`http://127.0.0.1:PORT/`). */
  url: string;
  admin: { email: string; password: string };
  /** A fresh browser profile (its own cookies) with one page; `options` e.g. `{ colorScheme: 'dark' }`. */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  /** A screenshot in test-artifacts/<name>/, and in docs/images when the README's images are being renewed. */
  shot(page: Page, name: string, docImage?: string): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the console exactly as `npm run build` does, into a folder of this run (tests may run in parallel). */
export function buildConsole(): string {
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-console-build-')));
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--console-only', dir], { cwd: ROOT, stdio: 'pipe' });
  return dir;
}

/** Keeps screenshots in test-artifacts/<artifactsName>/, and in docs/images when the README's images are being renewed. */
export function screenshots(artifactsName: string): ConsoleBed['shot'] {
  const artifacts = join(ROOT, 'test-artifacts', artifactsName);
  mkdirSync(artifacts, { recursive: true });
  return async (page, name, docImage) => {
    await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
    if (docImage && process.env.PORTCULLIS_UPDATE_DOC_IMAGES === '1') {
      await page.screenshot({ path: join(DOC_IMAGES, `${docImage}.png`) });
    }
  };
}

export async function startConsoleBed(artifactsName: string, options: TunnelBedOptions = {}): Promise<ConsoleBed> {
  const consoleDir = buildConsole();
  const bed = await startTunnelBed({ ...options, config: { consoleDir, ...options.config } });
  const shot = screenshots(artifactsName);
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
  } catch (error) {
    await bed.stop();
    throw error;
  }
  const contexts: BrowserContext[] = [];
  const bootstrap = bed.cp.bootstrapResult!;
  return {
    bed,
    browser,
    url: `${bed.server}/`,
    admin: { email: bootstrap.email, password: bootstrap.password },
    async newPage(options) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, timezoneId: 'Europe/Berlin', ...options });
      contexts.push(context);
      return context.newPage();
    },
    shot,
    async stop() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await bed.stop();
      removeTempDir(consoleDir);
    },
  };
}

/** Signs in through the sign-in page and waits for the signed-in frame. */
export async function signIn(page: Page, url: string, email: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/**
 * Runs axe-core in the page (WCAG 2.x A and AA rules) and fails on any serious or critical violation. axe is
 * evaluated through the DevTools protocol, which the page's CSP does not govern (a <script> tag would be refused).
 */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  // A string, not a function: this file is compiled without the DOM's types.
  const violations = (await page.evaluate(`(async () => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
    }));
  })()`)) as Array<{ id: string; impact: string; help: string; targets: string[] }>;
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious, [], `${what}: accessibility violations (axe-core): ${JSON.stringify(serious, null, 2)}`);
}
