import { homedir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';

export const SETTINGS_SECTION = 'portcullis';

export const END_SESSION_ON_TERMINAL_CLOSE = Object.freeze({ ask: 'ask', always: 'always', never: 'never' } as const);
export type EndSessionOnTerminalClose = (typeof END_SESSION_ON_TERMINAL_CLOSE)[keyof typeof END_SESSION_ON_TERMINAL_CLOSE];

/** Typed access to the `portcullis.*` settings declared in package.json. */
export class Settings {
  private get config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SETTINGS_SECTION);
  }

  get serverUrl(): string {
    return (this.config.get<string>('serverUrl') ?? '').trim();
  }

  /** Remembered for the next sign-in, in the user's (global) settings. */
  async setServerUrl(url: string): Promise<void> {
    await this.config.update('serverUrl', url, vscode.ConfigurationTarget.Global);
  }

  /** PEM file of the CA that issued the server's certificate (a company CA); empty: the system's roots. */
  get caFile(): string {
    const value = (this.config.get<string>('caFile') ?? '').trim();
    return value.startsWith('~/') ? join(homedir(), value.slice(2)) : value;
  }

  get mongoshPath(): string {
    return (this.config.get<string>('mongoshPath') ?? '').trim() || 'mongosh';
  }

  /** How long a session of this window outlives an unreachable control plane before it ends here (seconds, at least 5). */
  get reconnectTimeoutSeconds(): number {
    const value = Number(this.config.get<number>('reconnectTimeoutSeconds'));
    return Number.isFinite(value) && value > 0 ? Math.max(5, value) : 60;
  }

  get endSessionOnTerminalClose(): EndSessionOnTerminalClose {
    const value = this.config.get<string>('endSessionOnTerminalClose');
    return value === 'always' || value === 'never' ? value : 'ask';
  }
}
