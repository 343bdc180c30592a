/**
 * A scriptable stand-in for the `vscode` module, for unit tests of the extension's controllers, trees and
 * commands. Importing this file registers it as `vscode` for every later require, so load the code under
 * test afterwards (with `await import(...)`). Prompts answer from queues the test fills; everything the code
 * shows is recorded.
 */
import { readFileSync } from 'node:fs';
import Module from 'node:module';

type Listener<T> = (value: T) => unknown;

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  event = (listener: Listener<T>) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class Disposable {
  constructor(private readonly fn: () => void = () => {}) {}
  dispose(): void {
    this.fn();
  }
}

export const TreeItemCollapsibleState = Object.freeze({ None: 0, Collapsed: 1, Expanded: 2 });
export const StatusBarAlignment = Object.freeze({ Left: 1, Right: 2 });
export const ProgressLocation = Object.freeze({ SourceControl: 1, Window: 10, Notification: 15 });
export const ConfigurationTarget = Object.freeze({ Global: 1, Workspace: 2, WorkspaceFolder: 3 });

export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: unknown;
  iconPath?: unknown;
  contextValue?: string;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    public label: string,
    public collapsibleState: number = 0,
  ) {}
}

export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}
export class ThemeColor {
  constructor(readonly id: string) {}
}
export class MarkdownString {
  constructor(readonly value: string = '') {}
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
    readonly query = '',
    readonly authority = '',
  ) {}
  static parse(value: string): Uri {
    const url = new URL(value);
    return new Uri(url.protocol.replace(':', ''), decodeURIComponent(url.pathname), url.search.replace(/^\?/, ''), url.host);
  }
  static from(parts: { scheme: string; path?: string; query?: string }): Uri {
    return new Uri(parts.scheme, parts.path ?? '', parts.query ?? '');
  }
  static file(path: string): Uri {
    return new Uri('file', path);
  }
  toString(_skipEncoding?: boolean): string {
    const authority = this.authority ? `//${this.authority}` : '';
    return `${this.scheme}:${authority}${this.path}${this.query ? `?${this.query}` : ''}`;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}
export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(startLine: number, startCharacter: number, endLine: number, endCharacter: number) {
    this.start = new Position(startLine, startCharacter);
    this.end = new Position(endLine, endCharacter);
  }
}
export class CodeLens {
  constructor(
    readonly range: Range,
    readonly command?: { title: string; command: string; tooltip?: string; arguments?: unknown[] },
  ) {}
}

export interface ShownMessage {
  severity: 'information' | 'warning' | 'error';
  text: string;
  items: string[];
  options?: unknown;
}

export interface MockTerminal {
  name: string;
  options: { name: string; shellPath?: string; shellArgs?: string[]; env?: Record<string, string>; isTransient?: boolean };
  shown: boolean;
  disposed: boolean;
  show(): void;
  dispose(): void;
}

export interface MockStatusBarItem {
  text: string;
  tooltip?: string;
  command?: string;
  name?: string;
  visible: boolean;
  show(): void;
  hide(): void;
  dispose(): void;
}

export const ViewColumn = Object.freeze({ Active: -1, Beside: -2, One: 1, Two: 2 });

export interface MockWebviewPanel {
  viewType: string;
  title: string;
  options: unknown;
  webview: { html: string; cspSource: string };
  disposed: boolean;
  onDidDispose(listener: () => void): Disposable;
  dispose(): void;
}

/** A progress notification the code showed; `cancel()` is the user pressing its Cancel button. */
export interface MockProgress {
  options: { title?: string; cancellable?: boolean; location?: number };
  messages: string[];
  /** The task's promise settled (VS Code would close the notification). */
  done: boolean;
  cancel(): void;
}

/** A quick pick as createQuickPick returns it; `accept` and `pressButton` are the user choosing a row or its button. */
export interface MockQuickPick<T> {
  items: T[];
  selectedItems: T[];
  title?: string;
  placeholder?: string;
  visible: boolean;
  onDidAccept(listener: () => void): { dispose(): void };
  onDidHide(listener: () => void): { dispose(): void };
  onDidTriggerItemButton(listener: (e: { item: T; button: unknown }) => void): { dispose(): void };
  show(): void;
  hide(): void;
  dispose(): void;
  accept(index: number): void;
  pressButton(index: number): void;
}

/** A TreeView as createTreeView returns it: the provider, and the badge, description and message the code sets. */
export interface MockTreeView {
  treeDataProvider: unknown;
  visible: boolean;
  badge?: { value: number; tooltip: string };
  description?: string;
  message?: string;
  onDidChangeVisibility(listener: (e: { visible: boolean }) => void): Disposable;
  onDidExpandElement(listener: (e: { element: unknown }) => void): Disposable;
  onDidCollapseElement(listener: (e: { element: unknown }) => void): Disposable;
  /** The user expanding (true) or collapsing (false) an element. */
  toggle(element: unknown, expanded: boolean): void;
  dispose(): void;
}

/** A text document as openTextDocument returns it; `text` follows the content provider's onDidChange while open. */
export interface MockDocument {
  uri: Uri;
  text: string;
  closed: boolean;
  /** Every text it had, oldest first. */
  versions: string[];
}

export class TabInputText {
  constructor(readonly uri: Uri) {}
}

/** What the code under test did, and the answers it will get. Reset with `resetMock()`. */
export const mock = {
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  context: new Map<string, unknown>(),
  configuration: new Map<string, unknown>(),
  configurationUpdates: [] as Array<{ key: string; value: unknown; target: unknown }>,
  inputAnswers: [] as Array<string | undefined | ((options: Record<string, unknown>) => string | undefined)>,
  inputPrompts: [] as Array<Record<string, unknown>>,
  quickPickAnswers: [] as Array<(items: Array<{ label: string }>) => unknown>,
  messageAnswers: [] as Array<string | undefined>,
  messages: [] as ShownMessage[],
  terminals: [] as MockTerminal[],
  statusBarItems: [] as MockStatusBarItem[],
  clipboard: '',
  openedExternal: [] as string[],
  uriHandlers: [] as Array<{ handleUri(uri: Uri): void }>,
  /** Authentication providers by id (vscode.authentication.registerAuthenticationProvider). */
  authProviders: new Map<string, { label: string; provider: MockAuthProvider }>(),
  documents: [] as MockDocument[],
  /** Documents shown in an editor tab (showTextDocument), until closed with closeDocument. */
  tabs: [] as Uri[],
  closeDocumentEmitter: new EventEmitter<MockDocument>(),
  contentProviders: new Map<string, { provideTextDocumentContent(uri: Uri): unknown }>(),
  closeTerminalEmitter: new EventEmitter<MockTerminal>(),
  treeViews: new Map<string, MockTreeView>(),
  progress: [] as MockProgress[],
  quickPicks: [] as Array<MockQuickPick<{ label: string }>>,
  webviewPanels: [] as MockWebviewPanel[],
  codeLensProviders: [] as Array<{ selector: unknown; provider: unknown }>,
  activeTextEditor: undefined as { document: { uri: Uri } } | undefined,
  /** Answers of showOpenDialog, in order (undefined: the user cancelled). */
  openDialogAnswers: [] as Array<Uri[] | undefined>,
};

export function resetMock(): void {
  mock.commands.clear();
  mock.context.clear();
  mock.configuration.clear();
  mock.configurationUpdates.length = 0;
  mock.inputAnswers.length = 0;
  mock.inputPrompts.length = 0;
  mock.quickPickAnswers.length = 0;
  mock.messageAnswers.length = 0;
  mock.messages.length = 0;
  mock.terminals.length = 0;
  mock.statusBarItems.length = 0;
  mock.clipboard = '';
  mock.openedExternal.length = 0;
  mock.uriHandlers.length = 0;
  mock.authProviders.clear();
  mock.documents.length = 0;
  mock.tabs.length = 0;
  mock.closeDocumentEmitter = new EventEmitter<MockDocument>();
  mock.contentProviders.clear();
  mock.closeTerminalEmitter = new EventEmitter<MockTerminal>();
  mock.treeViews.clear();
  mock.progress.length = 0;
  mock.quickPicks.length = 0;
  mock.webviewPanels.length = 0;
  mock.codeLensProviders.length = 0;
  mock.activeTextEditor = undefined;
  mock.openDialogAnswers.length = 0;
}

/** The user closing a document's tab; VS Code then closes the document. */
export function closeDocument(uri: Uri): void {
  const key = uri.toString();
  mock.tabs = mock.tabs.filter((t) => t.toString() !== key);
  for (const document of mock.documents.filter((d) => d.uri.toString() === key && !d.closed)) {
    document.closed = true;
    mock.closeDocumentEmitter.fire(document);
  }
}

/** Waits until queued work (promise chains started by the code under test) has run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function message(severity: ShownMessage['severity']) {
  return (text: string, ...rest: unknown[]) => {
    const options = typeof rest[0] === 'object' && rest[0] !== null ? rest.shift() : undefined;
    mock.messages.push({ severity, text, items: rest as string[], options });
    return Promise.resolve(mock.messageAnswers.shift());
  };
}

export const window = {
  registerUriHandler(handler: { handleUri(uri: Uri): void }) {
    mock.uriHandlers.push(handler);
    return new Disposable(() => mock.uriHandlers.splice(mock.uriHandlers.indexOf(handler), 1));
  },
  get activeTextEditor() {
    return mock.activeTextEditor;
  },
  showInformationMessage: message('information'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),
  async showInputBox(options: Record<string, unknown> = {}) {
    mock.inputPrompts.push(options);
    if (mock.inputAnswers.length === 0) throw new Error(`unexpected input box: ${String(options.title ?? options.prompt)}`);
    const answer = mock.inputAnswers.shift();
    const value = typeof answer === 'function' ? answer(options) : answer;
    if (value !== undefined && typeof options.validateInput === 'function') {
      const problem = await (options.validateInput as (v: string) => unknown)(value);
      if (problem) throw new Error(`input "${String(options.title)}" rejected: ${String(problem)}`);
    }
    return value;
  },
  async showQuickPick(items: unknown, _options?: unknown) {
    const resolved = (await items) as Array<{ label: string }> | string[];
    const answer = mock.quickPickAnswers.shift();
    if (!answer) throw new Error('unexpected quick pick');
    const asItems = resolved.map((i) => (typeof i === 'string' ? { label: i } : i));
    const picked = answer(asItems) as { label: string } | undefined;
    if (picked && typeof resolved[0] === 'string') return picked.label;
    return picked;
  },
  createQuickPick<T extends { label: string }>(): MockQuickPick<T> {
    const accepted = new EventEmitter<void>();
    const hidden = new EventEmitter<void>();
    const button = new EventEmitter<{ item: T; button: unknown }>();
    const picker: MockQuickPick<T> = {
      items: [],
      selectedItems: [],
      visible: false,
      onDidAccept: (listener) => accepted.event(listener),
      onDidHide: (listener) => hidden.event(listener),
      onDidTriggerItemButton: (listener) => button.event(listener),
      show() {
        picker.visible = true;
      },
      hide() {
        if (!picker.visible) return;
        picker.visible = false;
        // As in VS Code, onDidHide arrives after hide() returns (the workbench reports it).
        setImmediate(() => hidden.fire());
      },
      dispose() {
        picker.hide();
      },
      accept(index) {
        picker.selectedItems = [picker.items[index]];
        accepted.fire();
      },
      pressButton(index) {
        button.fire({ item: picker.items[index], button: undefined });
      },
    };
    mock.quickPicks.push(picker as MockQuickPick<{ label: string }>);
    return picker;
  },
  withProgress<R>(
    options: MockProgress['options'],
    task: (progress: { report(value: { message?: string }): void }, token: unknown) => Promise<R>,
  ): Promise<R> {
    const cancelled = new EventEmitter<void>();
    let isCancellationRequested = false;
    const entry: MockProgress = {
      options,
      messages: [],
      done: false,
      cancel() {
        if (!options.cancellable) throw new Error(`progress "${String(options.title)}" has no Cancel button`);
        isCancellationRequested = true;
        cancelled.fire();
      },
    };
    mock.progress.push(entry);
    const token = {
      get isCancellationRequested() {
        return isCancellationRequested;
      },
      onCancellationRequested: (listener: () => void) => cancelled.event(listener),
    };
    const report = (value: { message?: string }) => {
      if (value.message) entry.messages.push(value.message);
    };
    return Promise.resolve(task({ report }, token)).finally(() => {
      entry.done = true;
    });
  },
  createTerminal(options: MockTerminal['options']): MockTerminal {
    const terminal: MockTerminal = {
      name: options.name,
      options,
      shown: false,
      disposed: false,
      show() {
        terminal.shown = true;
      },
      dispose() {
        terminal.disposed = true;
        mock.closeTerminalEmitter.fire(terminal);
      },
    };
    mock.terminals.push(terminal);
    return terminal;
  },
  onDidCloseTerminal: (listener: Listener<MockTerminal>) => mock.closeTerminalEmitter.event(listener),
  createStatusBarItem(): MockStatusBarItem {
    const item: MockStatusBarItem = {
      text: '',
      visible: false,
      show() {
        item.visible = true;
      },
      hide() {
        item.visible = false;
      },
      dispose() {
        item.visible = false;
      },
    };
    mock.statusBarItems.push(item);
    return item;
  },
  createWebviewPanel(viewType: string, title: string, _column: unknown, options: unknown): MockWebviewPanel {
    const onDispose = new EventEmitter<void>();
    const panel: MockWebviewPanel = {
      viewType,
      title,
      options,
      webview: { html: '', cspSource: 'vscode-webview://mock' },
      disposed: false,
      onDidDispose: (listener) => {
        const subscription = onDispose.event(listener);
        return new Disposable(() => subscription.dispose());
      },
      dispose() {
        if (panel.disposed) return;
        panel.disposed = true;
        onDispose.fire();
      },
    };
    mock.webviewPanels.push(panel);
    return panel;
  },
  createTreeView(id: string, options: { treeDataProvider: unknown }): MockTreeView {
    const visibility = new EventEmitter<{ visible: boolean }>();
    const expanded = new EventEmitter<{ element: unknown }>();
    const collapsed = new EventEmitter<{ element: unknown }>();
    const subscribe =
      <T>(emitter: EventEmitter<T>) =>
      (listener: (e: T) => void) => {
        const subscription = emitter.event(listener);
        return new Disposable(() => subscription.dispose());
      };
    const view: MockTreeView = {
      treeDataProvider: options.treeDataProvider,
      visible: true,
      badge: undefined,
      onDidChangeVisibility: subscribe(visibility),
      onDidExpandElement: subscribe(expanded),
      onDidCollapseElement: subscribe(collapsed),
      toggle(element, isExpanded) {
        (isExpanded ? expanded : collapsed).fire({ element });
      },
      dispose() {},
    };
    mock.treeViews.set(id, view);
    return view;
  },
  async showTextDocument(document: MockDocument) {
    if (!mock.tabs.some((t) => t.toString() === document.uri.toString())) mock.tabs.push(document.uri);
    return document;
  },
  async showOpenDialog(_options?: unknown) {
    if (mock.openDialogAnswers.length === 0) throw new Error('unexpected open dialog');
    return mock.openDialogAnswers.shift();
  },
  tabGroups: {
    get all() {
      return [{ tabs: mock.tabs.map((uri) => ({ input: new TabInputText(uri) })) }];
    },
  },
};

export const commands = {
  registerCommand(id: string, handler: (...args: unknown[]) => unknown) {
    if (mock.commands.has(id)) throw new Error(`command ${id} registered twice`);
    mock.commands.set(id, handler);
    return new Disposable(() => mock.commands.delete(id));
  },
  async executeCommand(id: string, ...args: unknown[]) {
    if (id === 'setContext') {
      mock.context.set(args[0] as string, args[1]);
      return undefined;
    }
    const handler = mock.commands.get(id);
    if (!handler) throw new Error(`command ${id} not found`);
    return handler(...args);
  },
};

export const workspace = {
  getConfiguration(section: string) {
    return {
      get<T>(key: string): T | undefined {
        return mock.configuration.get(`${section}.${key}`) as T | undefined;
      },
      async update(key: string, value: unknown, target: unknown) {
        mock.configuration.set(`${section}.${key}`, value);
        mock.configurationUpdates.push({ key: `${section}.${key}`, value, target });
      },
    };
  },
  /**
   * As VS Code: the provider is asked when a document opens, and again for each open document it names in
   * `onDidChange`; opening a document that is open already returns it as it is.
   */
  registerTextDocumentContentProvider(
    scheme: string,
    provider: { provideTextDocumentContent(uri: Uri): unknown; onDidChange?: (listener: (uri: Uri) => void) => { dispose(): void } },
  ) {
    mock.contentProviders.set(scheme, provider);
    const subscription = provider.onDidChange?.((uri) => {
      for (const document of mock.documents.filter((d) => d.uri.toString() === uri.toString() && !d.closed)) {
        void Promise.resolve(provider.provideTextDocumentContent(uri)).then(
          (text) => {
            document.text = String(text);
            document.versions.push(document.text);
          },
          () => {},
        );
      }
    });
    return new Disposable(() => {
      subscription?.dispose();
      mock.contentProviders.delete(scheme);
    });
  },
  /** Reads real files: tests write what a dialog picks into a temporary folder. */
  fs: {
    async readFile(uri: Uri): Promise<Uint8Array> {
      return new Uint8Array(readFileSync(uri.path));
    },
  },
  async openTextDocument(uri: Uri) {
    const open = mock.documents.find((d) => d.uri.toString() === uri.toString() && !d.closed);
    if (open) return open;
    const provider = mock.contentProviders.get(uri.scheme);
    if (!provider) throw new Error(`no content provider for ${uri.scheme}`);
    const text = String(await provider.provideTextDocumentContent(uri));
    const document: MockDocument = { uri, text, closed: false, versions: [text] };
    mock.documents.push(document);
    return document;
  },
  onDidCloseTextDocument: (listener: Listener<MockDocument>) => mock.closeDocumentEmitter.event(listener),
  get textDocuments(): MockDocument[] {
    return mock.documents.filter((d) => !d.closed);
  },
};

export const languages = {
  registerCodeLensProvider(selector: unknown, provider: unknown) {
    const entry = { selector, provider };
    mock.codeLensProviders.push(entry);
    return new Disposable(() => mock.codeLensProviders.splice(mock.codeLensProviders.indexOf(entry), 1));
  },
};

export interface MockAuthProvider {
  onDidChangeSessions(listener: (e: { added: unknown[]; removed: unknown[]; changed: unknown[] }) => void): Disposable;
  getSessions(): Promise<Array<{ id: string; accessToken: string; account: { id: string; label: string } }>>;
  createSession(scopes: string[]): Promise<{ id: string }>;
  removeSession(id: string): Promise<void>;
}

export const authentication = {
  registerAuthenticationProvider(id: string, label: string, provider: MockAuthProvider) {
    if (mock.authProviders.has(id)) throw new Error(`an authentication provider ${id} is already registered`);
    mock.authProviders.set(id, { label, provider });
    return new Disposable(() => mock.authProviders.delete(id));
  },
};

export const env = {
  clipboard: {
    async writeText(text: string) {
      mock.clipboard = text;
    },
    async readText() {
      return mock.clipboard;
    },
  },
  uriScheme: 'vscode',
  async openExternal(uri: Uri | string) {
    mock.openedExternal.push(uri.toString());
    return true;
  },
  /** As in a desktop editor: the URI is reachable as it is. */
  async asExternalUri(uri: Uri) {
    return uri;
  },
};

export const version = '1.100.0-mock';

/** An ExtensionContext with in-memory SecretStorage. */
export function makeExtensionContext() {
  const secrets = new Map<string, string>();
  return {
    subscriptions: [] as Array<{ dispose(): void }>,
    secrets: {
      store: async (key: string, value: string) => void secrets.set(key, value),
      get: async (key: string) => secrets.get(key),
      delete: async (key: string) => void secrets.delete(key),
      onDidChange: () => new Disposable(),
    },
    storedSecrets: secrets,
    extension: { packageJSON: { version: '0.1.0' } },
  };
}

const vscodeModule = {
  EventEmitter,
  Disposable,
  TreeItem,
  TreeItemCollapsibleState,
  StatusBarAlignment,
  ProgressLocation,
  ConfigurationTarget,
  ViewColumn,
  ThemeIcon,
  ThemeColor,
  MarkdownString,
  Uri,
  Position,
  Range,
  CodeLens,
  TabInputText,
  window,
  commands,
  workspace,
  languages,
  authentication,
  env,
  version,
};

// Make `require('vscode')` (and `import ... from 'vscode'`) return this module.
const MOCK_ID = '\0vscode-mock';
const moduleInternals = Module as unknown as {
  _resolveFilename: (request: string, ...rest: unknown[]) => string;
  _cache: Record<string, unknown>;
};
const originalResolve = moduleInternals._resolveFilename;
moduleInternals._resolveFilename = function resolve(this: unknown, request: string, ...rest: unknown[]) {
  if (request === 'vscode') return MOCK_ID;
  return originalResolve.call(this, request, ...rest);
};
const cached = new Module(MOCK_ID);
cached.exports = vscodeModule;
cached.loaded = true;
(require.cache as Record<string, unknown>)[MOCK_ID] = cached;
