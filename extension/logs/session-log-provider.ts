import * as vscode from 'vscode';
import { collectPages } from '../../proxy-core/api-client';
import { displayText } from '../../proxy-core/display-text';
import type { ConnectionController } from '../connection/connection-controller';
import { renderSessionLog } from './session-log-format';

export const SESSION_LOG_SCHEME = 'portcullis-log';

/** `portcullis-log:/ses_123/orders-db · reader.log`: the session id first, the rest is the tab title. */
export function sessionLogUri(sessionId: string, resourceName: string, accountName: string): vscode.Uri {
  const title = `${displayText(resourceName)} · ${displayText(accountName)}`.replace(/[/\\?#%]/g, '_');
  return vscode.Uri.from({ scheme: SESSION_LOG_SCHEME, path: `/${sessionId}/${title}.log` });
}

export function sessionIdOf(uri: vscode.Uri): string {
  const id = uri.path.split('/').filter(Boolean)[0];
  if (!id) throw new Error(`${uri.toString()} does not name a session`);
  return id;
}

/**
 * Serves session logs as read-only documents, fetched from the server each time VS Code asks (opening, or
 * `refresh` while the session still runs).
 */
export class SessionLogProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly connection: ConnectionController) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const client = this.connection.requireClient();
    const sessionId = sessionIdOf(uri);
    try {
      const [session, events] = await Promise.all([
        client.getSession(sessionId),
        collectPages((cursor) => client.getSessionLogs(sessionId, { cursor })),
      ]);
      return renderSessionLog(session, events);
    } catch (error) {
      await this.connection.handleError(error);
      throw error;
    }
  }

  refresh(uri: vscode.Uri): void {
    this.changed.fire(uri);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
