import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { testCacheDir } from './cache';
import { freePort, waitForPort } from './ports';
import { captureOutput, removeTempDir, spawnTracked, stopProcess, trackTempDir } from './processes';

/** The newest code-server whose bundled VS Code still runs on Node.js 20. */
export const CODE_SERVER_VERSION = '4.100.3';
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Debian packages the code-server build and the UI tests need, keyed by a file that shows each is installed:
 * headers for code-server's native modules, ripgrep (its npm package downloads a binary, which fails here),
 * Chromium for Playwright, and the compiler toolchain node-gyp uses.
 */
export const CODE_SERVER_DEBIAN_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  '/usr/include/krb5.h': 'libkrb5-dev',
  '/usr/include/libsecret-1/libsecret/secret.h': 'libsecret-1-dev',
  '/usr/include/X11/Xlib.h': 'libx11-dev',
  '/usr/include/X11/extensions/XKBfile.h': 'libxkbfile-dev',
  '/usr/bin/rg': 'ripgrep',
  [CHROMIUM_PATH]: 'chromium',
  '/usr/bin/g++': 'g++',
  '/usr/bin/make': 'make',
  '/usr/bin/python3': 'python3',
});

/** Native modules of VS Code (under lib/vscode/node_modules) that must be built for this Node.js. */
const VSCODE_NATIVE_MODULES = ['node-pty', '@vscode/spdlog', 'native-watchdog', 'kerberos', '@vscode/deviceid'];

const READY_MARKER = '.portcullis-ready';

export function codeServerDir(): string {
  return join(testCacheDir(), `code-server-${CODE_SERVER_VERSION}`);
}

/** The code-server entry script, run with this Node.js. */
export function codeServerEntry(): string {
  return join(codeServerDir(), 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

/** npm's bundled node-gyp; `--nodedir=/usr` makes it use the installed Node.js headers instead of downloading them. */
function nodeGyp(): string {
  const npmCli = execFileSync('readlink', ['-f', execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim()], {
    encoding: 'utf8',
  }).trim();
  const gyp = join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (!existsSync(gyp)) throw new Error(`npm's bundled node-gyp was not found at ${gyp}; install node-gyp or a complete npm`);
  return gyp;
}

function run(command: string, args: string[], cwd: string): void {
  try {
    execFileSync(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
    });
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer; message: string };
    const output = `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`.slice(-4000);
    throw new Error(`installing code-server failed in ${cwd}: ${command} ${args.join(' ')}\n${output}`);
  }
}

/**
 * Installs code-server once into the test cache (~/.cache/portcullis-test/code-server-VERSION) and returns the
 * entry script; cheap when it is already there. The recipe (see /work/shared/notes/real-test-bed.md): npm
 * packages without install scripts (they download prebuilt binaries, which fails here), native modules rebuilt
 * against the installed Node.js headers, Debian's ripgrep copied in. The build happens in a sibling folder
 * that is renamed into place at the end, so an interrupted install is never mistaken for a finished one.
 */
export function ensureCodeServer(log: (line: string) => void = () => {}): string {
  const dir = codeServerDir();
  if (existsSync(join(dir, READY_MARKER))) return codeServerEntry();
  const missing = Object.entries(CODE_SERVER_DEBIAN_PACKAGES).filter(([file]) => !existsSync(file));
  if (missing.length > 0) {
    const packages = missing.map(([, pkg]) => pkg).join(' ');
    throw new Error(`code-server needs these Debian packages: ${packages}; install them with: sudo apt-get install -y ${packages}`);
  }
  const started = Date.now();
  log(`installing code-server ${CODE_SERVER_VERSION} into ${dir} (once; takes a few minutes)`);
  const work = `${dir}.partial`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'portcullis-code-server', private: true }));
  const npm = 'npm';
  const gyp = nodeGyp();
  run(npm, ['install', '--ignore-scripts', '--no-save', `code-server@${CODE_SERVER_VERSION}`], work);
  const codeServer = join(work, 'node_modules', 'code-server');
  const vscode = join(codeServer, 'lib', 'vscode');
  log('installing VS Code dependencies');
  run(npm, ['install', '--omit=dev', '--ignore-scripts'], vscode);
  const rgDir = join(vscode, 'node_modules', '@vscode', 'ripgrep', 'bin');
  mkdirSync(rgDir, { recursive: true });
  cpSync('/usr/bin/rg', join(rgDir, 'rg'));
  // VS Code loads some modules from node_modules.asar, which only exists in packaged builds.
  rmSync(join(vscode, 'node_modules.asar'), { force: true });
  symlinkSync('node_modules', join(vscode, 'node_modules.asar'));
  for (const module of VSCODE_NATIVE_MODULES) {
    log(`building ${module}`);
    run(process.execPath, [gyp, 'rebuild', '--nodedir=/usr'], join(vscode, 'node_modules', module));
  }
  log('installing built-in extension dependencies');
  run(npm, ['install', '--omit=dev', '--ignore-scripts'], join(vscode, 'extensions'));
  // code-server's own argon2 (for password auth, unused with --auth none, but loaded at start).
  const argon2 = [join(codeServer, 'node_modules', 'argon2'), join(work, 'node_modules', 'argon2')].find((p) => existsSync(p));
  if (!argon2) throw new Error('code-server installed without its argon2 dependency; delete the cache folder and try again');
  const napi = join(argon2, 'lib', 'binding', 'napi-v3');
  log('building argon2');
  run(
    process.execPath,
    [gyp, 'rebuild', '--nodedir=/usr', '--module_name=argon2', `--module_path=${napi}`, '--napi_build_version=3'],
    argon2,
  );
  execFileSync(process.execPath, [join(codeServer, 'out', 'node', 'entry.js'), '--version'], { stdio: 'ignore' });
  writeFileSync(join(work, READY_MARKER), `${new Date().toISOString()}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  log(`code-server ${CODE_SERVER_VERSION} installed in ${Math.round((Date.now() - started) / 1000)} s`);
  return codeServerEntry();
}

/**
 * Builds and packages the extension exactly as users get it (`npm run package`), once per test process, and
 * returns a private copy of the .vsix. Test files running in parallel package one at a time (a file lock).
 */
export function packageExtension(): string {
  if (packagedVsix) return packagedVsix;
  const root = join(__dirname, '..', '..');
  const copy = join(trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-vsix-'))), 'portcullis.vsix');
  try {
    // The copy is taken under the lock, so another test file packaging at the same time cannot change it.
    execFileSync(
      'flock',
      [join(tmpdir(), 'portcullis-vsix.lock'), 'sh', '-c', 'npm run --silent package && cp dist/portcullis.vsix "$1"', 'package', copy],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run package failed:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`);
  }
  packagedVsix = copy;
  return copy;
}
let packagedVsix: string | undefined;

export interface CodeServerOptions {
  /** Extension packages (.vsix) to install before starting. */
  vsix?: string[];
  /** User settings (settings.json). Defaults that keep the UI testable are merged under these. */
  settings?: Record<string, unknown>;
  /** Environment for code-server and everything it starts (extension host, terminals). */
  env?: NodeJS.ProcessEnv;
  /**
   * Loopback address and port to serve on (default 127.0.0.1 and a free port). Another loopback address, such as
   * 127.0.0.2, gives the workbench an origin that is not "localhost" to servers that treat loopback specially.
   */
  host?: string;
  port?: number;
}

export interface CodeServer {
  /** `http://HOST:PORT/?folder=...` opening the workspace folder. */
  url: string;
  /** `http://HOST:PORT`, the workbench's origin. */
  origin: string;
  port: number;
  userDataDir: string;
  extensionsDir: string;
  workspaceDir: string;
  output(): string;
  stop(): Promise<void>;
}

/** Settings that make the workbench predictable for a test: no welcome page, no trust prompt, DOM terminal. */
export const TESTABLE_SETTINGS = Object.freeze({
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'terminal.integrated.gpuAcceleration': 'off',
  'workbench.tips.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'workbench.enableExperiments': false,
});

/** Starts a real code-server (VS Code in the browser) on a random loopback port, without authentication. */
export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  const entry = ensureCodeServer();
  const root = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-code-server-')));
  const userDataDir = join(root, 'user-data');
  const extensionsDir = join(root, 'extensions');
  const workspaceDir = join(root, 'workspace');
  for (const d of [join(userDataDir, 'User'), extensionsDir, workspaceDir]) mkdirSync(d, { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...TESTABLE_SETTINGS, ...options.settings }, null, 2));
  const env = { ...process.env, ...options.env, NODE_OPTIONS: '' };
  const dirs = [`--user-data-dir=${userDataDir}`, `--extensions-dir=${extensionsDir}`];
  for (const vsix of options.vsix ?? []) {
    execFileSync(process.execPath, [entry, ...dirs, '--install-extension', vsix], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  }
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const child = spawnTracked(
    process.execPath,
    [entry, '--auth', 'none', '--bind-addr', `${host}:${port}`, ...dirs, '--disable-telemetry', '--disable-update-check', workspaceDir],
    { env, detached: false },
  );
  const output = captureOutput(child);
  const alive = () => child.exitCode === null && child.signalCode === null;
  try {
    await waitForPort(port, host, 60_000, alive);
  } catch (error) {
    await stopProcess(child);
    removeTempDir(root);
    throw new Error(`code-server did not start: ${(error as Error).message}\n${output()}`);
  }
  return {
    url: `http://${host}:${port}/?folder=${encodeURIComponent(workspaceDir)}`,
    origin: `http://${host}:${port}`,
    port,
    userDataDir,
    extensionsDir,
    workspaceDir,
    output,
    async stop() {
      await stopProcess(child, 5000);
      removeTempDir(root);
    },
  };
}

/** The installed extension's package.json, to check what code-server actually loaded. */
export function installedExtensionManifest(server: CodeServer, id: string): Record<string, unknown> | undefined {
  const prefix = `${id.toLowerCase()}-`;
  const list = execFileSync('ls', [server.extensionsDir], { encoding: 'utf8' }).split('\n');
  const folder = list.find((name) => name.toLowerCase().startsWith(prefix));
  return folder ? JSON.parse(readFileSync(join(server.extensionsDir, folder, 'package.json'), 'utf8')) : undefined;
}

/** Arguments for Debian's Chromium under Playwright in a container (no sandbox, no GPU, nothing phoning home). */
export const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]);

/** Polls `check` until it returns a value (not undefined), or fails naming `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The rendered text of what a locator matches (line breaks as shown). */
export async function textOf(locator: Locator): Promise<string> {
  return (await locator.allInnerTexts()).join('\n');
}

/**
 * A VS Code workbench in Chromium, with the selectors that work on code-server 4.100 (tree rows, quick input,
 * notifications, the DOM-rendered terminal) and numbered screenshots.
 */
export class Workbench {
  private step = 0;

  private constructor(
    readonly browser: Browser,
    readonly page: Page,
    private readonly artifactsDir: string,
  ) {}

  static async open(server: CodeServer, artifactsDir: string): Promise<Workbench> {
    mkdirSync(artifactsDir, { recursive: true });
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(server.url);
      await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
      return new Workbench(browser, page, artifactsDir);
    } catch (error) {
      await browser.close();
      throw error;
    }
  }

  async shot(name: string): Promise<void> {
    this.step++;
    await this.page.screenshot({ path: join(this.artifactsDir, `${String(this.step).padStart(2, '0')}-${name}.png`) });
  }

  /** A tree or list row containing `text`. */
  row(text: string | RegExp, within?: Locator): Locator {
    return (within ?? this.page).locator('.monaco-list-row', { hasText: text }).first();
  }

  /** A view pane (Resources, Sessions) by its title. */
  pane(title: string): Locator {
    return this.page.locator('.pane', { has: this.page.locator('.pane-header', { hasText: title }) }).first();
  }

  quickInput(): Locator {
    return this.page.locator('.quick-input-widget .quick-input-box input');
  }

  quickInputTitle(): Promise<string> {
    return textOf(this.page.locator('.quick-input-title'));
  }

  /** Waits for a quick input whose title contains `title`, then types `value` (if given) and presses Enter. */
  async answer(title: string, value?: string): Promise<void> {
    await eventually(`the "${title}" prompt`, async () => ((await this.quickInputTitle()).includes(title) ? true : undefined));
    if (value !== undefined) await this.quickInput().fill(value);
    await this.quickInput().press('Enter');
  }

  /** Waits for a quick pick whose title contains `title` and chooses the row containing `label`. */
  async pick(title: string, label: string): Promise<void> {
    await eventually(`the "${title}" pick`, async () => ((await this.quickInputTitle()).includes(title) ? true : undefined));
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().click();
  }

  notification(text: RegExp): Locator {
    return this.page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  }

  /** Right-clicks `target` and runs the context menu entry `label`. */
  async contextMenu(target: Locator, label: string): Promise<void> {
    // The tooltip of a row hovered earlier can cover the target; the editor area shows none, so rest the pointer there.
    const editor = await this.page.locator('.part.editor').boundingBox();
    if (editor) await this.page.mouse.move(editor.x + editor.width / 2, editor.y + editor.height / 2);
    await target.click({ button: 'right' });
    const item = this.page.locator('.context-view .monaco-menu .action-item', { hasText: label }).first();
    // The menu ignores a click that arrives while it is still opening; hover first, then press and release slowly.
    await item.hover();
    await item.click({ delay: 80 });
    await item.waitFor({ state: 'detached', timeout: 5000 });
  }

  /** The terminal in front (DOM-rendered with terminal.integrated.gpuAcceleration off). */
  terminal(): Locator {
    return this.page.locator('.xterm').filter({ visible: true }).first();
  }

  terminalText(): Promise<string> {
    return textOf(this.terminal().locator('.xterm-rows'));
  }

  async close(): Promise<void> {
    await this.page.screenshot({ path: join(this.artifactsDir, 'zz-last.png') }).catch(() => {});
    await this.browser.close();
  }
}
