import * as vscode from 'vscode';
import type { LocalSession } from '../sessions/session-book';
import { sessionLabel } from '../sessions/session-label';
import { CONNECTION_STRING_FORMATS, type ConnectionStringFormat, connectionStringFor } from './connection-string-formats';

/**
 * Copy Connection String: a quick pick of the formats (each showing the exact text it copies), then the clipboard and
 * a confirmation that says where to paste it and for how long it works. Returns what was copied, or undefined.
 */
export async function copyConnectionString(session: LocalSession): Promise<string | undefined> {
  const formats = Object.keys(CONNECTION_STRING_FORMATS) as ConnectionStringFormat[];
  const picked = await vscode.window.showQuickPick(
    formats.map((format) => ({
      label: CONNECTION_STRING_FORMATS[format].label,
      description: connectionStringFor(session.uri, format),
      detail: CONNECTION_STRING_FORMATS[format].detail,
      format,
    })),
    { title: `Copy Connection String: ${sessionLabel(session)}`, placeHolder: 'Format' },
  );
  if (!picked) return undefined;
  const text = connectionStringFor(session.uri, picked.format);
  await vscode.env.clipboard.writeText(text);
  void vscode.window.showInformationMessage(
    `Copied ${text} (${picked.label}). ${CONNECTION_STRING_FORMATS[picked.format].paste}; it needs no password while the session on ${sessionLabel(session)} runs.`,
  );
  return text;
}
