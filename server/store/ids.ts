import { randomBytes } from 'node:crypto';

export const ID_PREFIXES = Object.freeze({
  user: 'usr_',
  project: 'prj_',
  gateway: 'gw_',
  resource: 'res_',
  account: 'acc_',
  session: 'ses_',
  audit: 'aud_',
  apiToken: 'tok_',
  enrollment: 'enr_',
  accessRequest: 'req_',
  ssoFlow: 'sso_',
} as const);
export type IdPrefix = (typeof ID_PREFIXES)[keyof typeof ID_PREFIXES];

// RFC 4648 base32 alphabet, lower-cased so ids read well in URLs and logs.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_LENGTH = 20;

/** A new random id such as `usr_k3j5...` (prefix + 20 base32 characters, 100 random bits). */
export function newId(prefix: IdPrefix): string {
  const bytes = randomBytes(ID_LENGTH);
  let out = prefix;
  // 256 is a multiple of 32, so taking each byte modulo 32 keeps the distribution uniform.
  for (const byte of bytes) out += ALPHABET[byte & 31];
  return out;
}

/** Whether `value` has the shape of an id with this prefix (for validating path parameters). */
export function isId(prefix: IdPrefix, value: string): boolean {
  if (!value.startsWith(prefix) || value.length !== prefix.length + ID_LENGTH) return false;
  for (const char of value.slice(prefix.length)) if (!ALPHABET.includes(char)) return false;
  return true;
}
