/**
 * Each project's tunnel CA: it issues the session certificates proxy-core presents to the gateway inside the
 * relayed stream (tunnel/tls.ts). Its key is derived from the root key and the project id, never stored, so every
 * replica holds the same CA without sharing anything but the root key.
 */
import { createECDH, createPrivateKey, type KeyObject } from 'node:crypto';
import { createTunnelCaCertificate } from '../../tunnel/certificates';
import { deriveKey } from '../secrets/derive-key';

export interface TunnelCa {
  key: KeyObject;
  certificatePem: string;
}

/** The order of the P-256 group: a private scalar must be in [1, n - 1]. */
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const cache = new WeakMap<Buffer, Map<string, Promise<TunnelCa>>>();

export function tunnelCaFor(rootKey: Buffer, projectId: string): Promise<TunnelCa> {
  let byProject = cache.get(rootKey);
  if (!byProject) {
    byProject = new Map();
    cache.set(rootKey, byProject);
  }
  let ca = byProject.get(projectId);
  if (!ca) {
    ca = makeTunnelCa(rootKey, projectId);
    byProject.set(projectId, ca);
    // A failure is not kept: the next session tries again.
    ca.catch(() => byProject?.delete(projectId));
  }
  return ca;
}

async function makeTunnelCa(rootKey: Buffer, projectId: string): Promise<TunnelCa> {
  const key = p256KeyFromSeed(deriveKey(rootKey, `tunnel-ca:${projectId}`));
  return { key, certificatePem: await createTunnelCaCertificate(key, projectId) };
}

/** An EC P-256 private key whose scalar is the 32-byte seed reduced into [1, n - 1]. */
function p256KeyFromSeed(seed: Buffer): KeyObject {
  const scalar = (BigInt(`0x${seed.toString('hex')}`) % (P256_ORDER - 1n)) + 1n;
  const d = Buffer.from(scalar.toString(16).padStart(64, '0'), 'hex');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey(); // 0x04 || x || y
  return createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: d.toString('base64url'),
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
}
