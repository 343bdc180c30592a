/**
 * The gateway's credential file: JSON with the control plane address, the gateway id and its credential.
 * Written with mode 0600 (atomically, through a temporary file in the same folder); read back with a check that
 * nobody else can read it. The credential itself is never printed.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface GatewayCredentialFile {
  server: string;
  gatewayId: string;
  credential: string;
  /** Absolute path of the PEM file of the CA that issued the control plane's certificate (gateway start --ca-file). */
  caFile?: string;
  /** The gateway's tunnel key (PKCS#8 PEM; end-to-end encryption) and its self-signed certificate; made on first start. */
  tunnelKey?: string;
  tunnelCertificate?: string;
}

export function writeCredentialFile(path: string, content: GatewayCredentialFile): void {
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(content, null, 2)}\n`);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  chmodSync(temp, 0o600); // the umask cannot widen it, but be explicit
  renameSync(temp, path);
}

export function readCredentialFile(path: string): GatewayCredentialFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `no gateway credential file at ${path}; enroll the gateway first`
        : `could not read the gateway credential file ${path} (${code ?? (error as Error).message})`,
    );
  }
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    throw new Error(`the gateway credential file ${path} can be read by other users; run chmod 600 on it`);
  }
  let parsed: Partial<GatewayCredentialFile>;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`the gateway credential file ${path} is not valid JSON; enroll the gateway again`);
  }
  if (typeof parsed.server !== 'string' || typeof parsed.gatewayId !== 'string' || typeof parsed.credential !== 'string') {
    throw new Error(`the gateway credential file ${path} lacks server, gatewayId or credential; enroll the gateway again`);
  }
  return {
    server: parsed.server,
    gatewayId: parsed.gatewayId,
    credential: parsed.credential,
    ...(typeof parsed.caFile === 'string' ? { caFile: parsed.caFile } : {}),
    ...(typeof parsed.tunnelKey === 'string' && typeof parsed.tunnelCertificate === 'string'
      ? { tunnelKey: parsed.tunnelKey, tunnelCertificate: parsed.tunnelCertificate }
      : {}),
  };
}
