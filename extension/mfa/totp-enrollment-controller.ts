import QRCode from 'qrcode';
import * as vscode from 'vscode';
import type { MfaStatusDto } from '../../protocol/api';
import { isApiError } from '../../proxy-core/api-client';
import { displayMessage, displayText } from '../../proxy-core/display-text';
import type { ConnectionController } from '../connection/connection-controller';
import { totpEnrollmentHtml } from './totp-enrollment-html';

const VIEW_TYPE = 'portcullis.totpEnrollment';

const REMOVE = 'Remove Authenticator App';
const SET_UP = 'Set Up Authenticator App';

/**
 * "Portcullis: Set Up Authenticator App": shows the QR code of a new, pending TOTP secret in a webview and confirms
 * it with a code typed into an input box. A wrong code is explained and asked again; cancelling changes nothing.
 * "Portcullis: Remove Authenticator App" removes it, confirmed with a current code. Everything is said in the
 * extension's terms: no CLI commands.
 */
export class TotpEnrollmentController implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;

  constructor(private readonly connection: ConnectionController) {}

  async enroll(): Promise<boolean> {
    const client = this.connection.requireClient();
    const status = await client.getMfaStatus();
    if (status.totp.enrolled) {
      // Replacing means removing first (with a code from the current app): offered here, then the set-up goes on.
      const choice = await vscode.window.showInformationMessage(
        'An authenticator app is already set up for you. To replace it, remove it first.',
        REMOVE,
      );
      if (choice !== REMOVE || !(await this.remove({ replacing: true }))) return false;
    }
    const { secret, uri } = await client.startTotpEnrollment();
    const panel = this.showPanel();
    panel.webview.html = totpEnrollmentHtml({
      qrDataUrl: await QRCode.toDataURL(uri, { margin: 1, width: 220 }),
      secret,
      accountEmail: displayText(this.connection.current?.me.user.email ?? ''),
      cspSource: panel.webview.cspSource,
    });

    let problem: string | undefined;
    for (;;) {
      const code = await vscode.window.showInputBox({
        title: 'Portcullis: Set Up Authenticator App',
        prompt: problem ? `${problem}. Enter the current code from the app.` : 'Enter the 6-digit code your authenticator app shows',
        placeHolder: '123456',
        ignoreFocusOut: true,
        validateInput: (value) => (/^\s*\d{3}\s?\d{3}\s*$/.test(value) ? undefined : 'The code is 6 digits'),
      });
      if (code === undefined) {
        panel.dispose();
        void vscode.window.showInformationMessage('Authenticator app set-up cancelled; nothing changed.');
        return false;
      }
      try {
        await client.confirmTotpEnrollment(code.replace(/\s/g, ''));
        break;
      } catch (error) {
        if (!isApiError(error, 'mfa_invalid')) {
          panel.dispose();
          throw error;
        }
        problem = `That code was not accepted (${displayMessage(error.message)})`;
      }
    }
    panel.dispose();
    void vscode.window.showInformationMessage('Authenticator app set up: MFA will ask for its codes.');
    return true;
  }

  /**
   * Removes the user's authenticator app after a current code from it; false when nothing was removed. `replacing`:
   * the set-up of a new one follows at once, so what happens without one is not worth saying.
   */
  async remove(options: { replacing?: boolean } = {}): Promise<boolean> {
    const client = this.connection.requireClient();
    const status = await client.getMfaStatus();
    if (!status.totp.enrolled) {
      void vscode.window.showInformationMessage('You have no authenticator app to remove.');
      return false;
    }
    let problem: string | undefined;
    let after: MfaStatusDto;
    for (;;) {
      const code = await vscode.window.showInputBox({
        title: 'Portcullis: Remove Authenticator App',
        prompt: problem
          ? `${problem}. Enter the current code from the app.`
          : 'Enter the 6-digit code your authenticator app shows now, to confirm that you are removing your own app',
        placeHolder: '123456',
        ignoreFocusOut: true,
        validateInput: (value) => (/^\s*\d{3}\s?\d{3}\s*$/.test(value) ? undefined : 'The code is 6 digits'),
      });
      if (code === undefined) {
        void vscode.window.showInformationMessage('Authenticator app kept; nothing changed.');
        return false;
      }
      try {
        after = await client.removeTotp(code.replace(/\s/g, ''));
        break;
      } catch (error) {
        if (!isApiError(error, 'mfa_invalid')) throw error;
        problem = `That code was not accepted (${displayMessage(error.message)})`;
      }
    }
    if (options.replacing) return true;
    const methods = new Set(after.projects.map((p) => p.effectiveMethod));
    if (methods.has('totp')) {
      // Shown as a warning with the way back: Access to those accounts fails until an app is set up again.
      void vscode.window
        .showWarningMessage('Authenticator app removed. A project you are in requires one for MFA: set up a new one before Access.', SET_UP)
        .then((choice) => (choice === SET_UP ? this.enroll() : undefined));
    } else {
      void vscode.window.showInformationMessage(
        methods.has('email') ? 'Authenticator app removed; MFA codes now come by email.' : 'Authenticator app removed.',
      );
    }
    return true;
  }

  private showPanel(): vscode.WebviewPanel {
    this.panel?.dispose();
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'Set Up Authenticator App', vscode.ViewColumn.Active, {
      enableScripts: false,
      localResourceRoots: [],
    });
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
    this.panel = panel;
    return panel;
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
