import * as vscode from 'vscode';
import type { AccessController } from '../sessions/access-controller';
import type { SessionBook } from '../sessions/session-book';
import { sessionLabel } from '../sessions/session-label';
import type { ConnectionController } from './connection-controller';

/**
 * Sign Out: asks first when sessions of this window are running (signing out ends them), then ends them, revokes
 * the token, and says in one message what it ended.
 */
export async function signOutConfirmed(connection: ConnectionController, book: SessionBook, access: AccessController): Promise<boolean> {
  const server = connection.current?.server;
  const running = book.list();
  const names = running.map((s) => sessionLabel(s));
  if (running.length > 0) {
    const answer = await vscode.window.showWarningMessage(
      running.length === 1 ? `Sign out and end your session on ${names[0]}?` : `Sign out and end your ${running.length} running sessions?`,
      { modal: true, detail: `${names.join('\n')}\n\nSigning out ends them: their mongosh terminals lose the connection.` },
      'Sign Out',
    );
    if (answer !== 'Sign Out') return false;
    // One message below says what ended, rather than one notification per session.
    for (const session of running) session.quiet = true;
  }
  await access.stopAll('signed_out');
  await connection.signOut();
  const where = server ? ` of ${server}` : '';
  void vscode.window.showInformationMessage(
    running.length === 0
      ? `Signed out${where}.`
      : `Signed out${where}. Ended ${running.length === 1 ? 'your session' : `${running.length} sessions`}: ${names.join(', ')}.`,
  );
  return true;
}
