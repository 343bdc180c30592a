/** The webview page that shows the authenticator QR code. Static: no scripts, images only from data: URLs. */

export interface TotpEnrollmentPage {
  /** `data:image/png;base64,...` from QRCode.toDataURL. */
  qrDataUrl: string;
  secret: string;
  accountEmail: string;
  cspSource: string;
}

export function totpEnrollmentHtml(page: TotpEnrollmentPage): string {
  if (!page.qrDataUrl.startsWith('data:image/png;base64,')) throw new Error('the QR code must be a PNG data URL');
  const secretGroups = page.secret.match(/.{1,4}/g)?.join(' ') ?? page.secret;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline' ${escapeHtml(page.cspSource)};">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Set Up Authenticator App</title>
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 1.5em; max-width: 36em; }
  .qr { background: #fff; padding: 12px; display: inline-block; border-radius: 4px; }
  .qr img { display: block; width: 220px; height: 220px; image-rendering: pixelated; }
  code { font-family: var(--vscode-editor-font-family); font-size: 1.1em; letter-spacing: 0.05em; user-select: all; }
  ol li { margin-bottom: 0.6em; }
</style>
</head>
<body>
<h1>Set up an authenticator app</h1>
<p>Accounts that require multi-factor authentication will ask for a code from this app for <strong>${escapeHtml(page.accountEmail)}</strong>.</p>
<ol>
  <li>Open your authenticator app (Google Authenticator, Microsoft Authenticator, 1Password, Authy, ...) and add an account by scanning this code:
    <div class="qr"><img id="qr" alt="QR code for the authenticator app" src="${escapeHtml(page.qrDataUrl)}"></div>
  </li>
  <li>Cannot scan? Enter this key by hand (time-based): <code id="secret">${escapeHtml(secretGroups)}</code></li>
  <li>Type the 6-digit code the app shows into the box at the top of the window to confirm.</li>
</ol>
<p>Closing this page without confirming leaves MFA unchanged.</p>
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
