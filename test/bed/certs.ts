import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertPair {
  certFile: string;
  keyFile: string;
  certPem: string;
}

export interface TestCerts {
  /** The test CA that signs `verified` and `wrongHost`. */
  ca: CertPair;
  /** Signed by the CA, valid for localhost and 127.0.0.1. */
  verified: CertPair;
  /** Signed by itself, valid for localhost and 127.0.0.1. */
  selfSigned: CertPair;
  /** Signed by the CA, but only for wrong-host.invalid. */
  wrongHost: CertPair;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function pair(dir: string, name: string): CertPair {
  const certFile = join(dir, `${name}.crt`);
  return { certFile, keyFile: join(dir, `${name}.key`), certPem: readFileSync(certFile, 'utf8') };
}

function signedByCa(dir: string, name: string, subjectAltName: string): CertPair {
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    `subjectAltName=${subjectAltName}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      ext,
    ],
    dir,
  );
  return pair(dir, name);
}

/** Generates a CA and three server certificates with OpenSSL, at test time, into `dir`. */
export function makeTestCerts(dir: string): TestCerts {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=Portcullis Test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const verified = signedByCa(dir, 'verified', 'DNS:localhost,IP:127.0.0.1');
  const wrongHost = signedByCa(dir, 'wrong-host', 'DNS:wrong-host.invalid');
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'self-signed.key',
      '-out',
      'self-signed.crt',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    dir,
  );
  return { ca: pair(dir, 'ca'), verified, selfSigned: pair(dir, 'self-signed'), wrongHost };
}
