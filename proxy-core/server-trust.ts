/**
 * Trusting a control plane whose certificate comes from a company's own CA. Node reads NODE_EXTRA_CA_CERTS only at
 * start (and the VS Code extension host not per extension), so the CA travels with each connection instead: API
 * requests go through undici's fetch with an Agent holding the CA, relay and gateway streams pass it to TLS.
 *
 * A CA given here replaces the system's roots for this server: a private deployment should not also accept a
 * certificate that some public CA issued for its name.
 */

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';

/** Reads a PEM file of one or more CA certificates, or says clearly why it cannot be used. */
export function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read the CA file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}): give the PEM file of your company's CA`,
    );
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    throw new Error(`${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA's certificate file`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw new Error(`${path} holds a certificate that cannot be read: give the CA's PEM certificate file`);
    }
  }
  return blocks.join('\n');
}

/** A fetch that trusts `ca` (PEM) for TLS; the global fetch when there is none. */
export function fetchTrusting(ca: string | undefined): typeof fetch {
  if (!ca) return globalThis.fetch;
  const dispatcher = new Agent({ connect: { ca } });
  return ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) =>
    undiciFetch(input as string, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
}
