import QRCode from 'qrcode';
import * as vscode from 'vscode';
import { isApiError } from '../../proxy-core/api-client';
import { displayMessage, displayText } from '../../proxy-core/display-text';
import type { ConnectionController } from '../connection/connection-controller';
import { totpEnrollmentHtml } from './totp-enrollment-html';

const VIEW_TYPE = 'portcullis.totpEnrollment';

/**
 * "Portcullis: Set Up Authenticator App": shows the QR code of a new, pending TOTP secret in a webview and confirms
 * it with a code typed into an input box. A wrong code is explained and asked again; cancelling changes nothing.
 */
export class TotpEnrollmentController implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;

  constructor(private readonly connection: ConnectionController) {}

  async enroll(): Promise<boolean> {
    const client = this.connection.requireClient();
    const status = await client.getMfaStatus();
    if (status.totp.enrolled) {
      void vscode.window.showInformationMessage(
        'An authenticator app is already set up for you. To replace it, remove it first with `portcullis mfa remove totp`.',
      );
      return false;
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
    void vscode.window.showInformationMessage('Authenticator app confirmed: accounts that require MFA will ask for its code.');
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
