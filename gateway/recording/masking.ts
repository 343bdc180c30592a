/*
 * What the session log never shows. Every rule here replaces a value with MASKED ("***"), whatever the value's type
 * (string, number, array, sub-document, binary): a secret is hidden whole, never summarized.
 *
 * 1. Secret keys, at any depth. A key is normalized first: ASCII and Unicode lower case, `_` and `-` removed
 *    (`api_key`, `Api-Key` and `apiKey` are all `apikey`), then compared exactly with SECRET_KEYS.
 * 2. In an authentication command (a top-level key the gateway treats as authentication, such as saslStart,
 *    saslContinue, authenticate, speculativeAuthenticate, also inside `explain`), AUTHENTICATION_SECRET_KEYS too
 *    (`payload`, `key`), at any depth: every SASL payload, and MONGODB-CR's key. Elsewhere `payload` and `key` are
 *    ordinary data (an index's `key`, an application's `payload` field).
 * 3. The password in any `mongodb://user:password@` or `mongodb+srv://user:password@` inside any string, also in
 *    longer text: the user is kept, the password becomes `***`.
 * 4. The deployment's own patterns (RecordingOptions.maskPatterns): a string matching any of them anywhere is `***`.
 */

export const MASKED = '***';

/** Keys whose value is always masked, normalized (see normalizeKey). */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  // passwords (createUser/updateUser `pwd`, application forms, connection settings)
  'password',
  'passwd',
  'pwd',
  'newpassword',
  'oldpassword',
  'currentpassword',
  'passphrase',
  // shared secrets and tokens
  'secret',
  'clientsecret',
  'sharedsecret',
  'token',
  'accesstoken',
  'refreshtoken',
  'sessiontoken',
  'idtoken',
  'authtoken',
  'bearertoken',
  'authorization',
  // API and cloud keys
  'apikey',
  'accesskey',
  'secretkey',
  'secretaccesskey',
  // key material (client-side field level encryption key vaults and KMS settings, TLS keys)
  'privatekey',
  'keymaterial',
  'masterkey',
  'encryptionkey',
  'kmsproviders',
  // stored credentials (admin.system.users documents carry SCRAM keys under `credentials`)
  'credentials',
]);

/** Keys masked at any depth, but only in an authentication command. */
export const AUTHENTICATION_SECRET_KEYS: ReadonlySet<string> = new Set(['payload', 'key']);

/** The longest key worth normalizing: every listed key is shorter once normalized, with room for separators. */
const MAX_SECRET_KEY_LENGTH = 48;

export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, '');
}

export function isSecretKey(key: string): boolean {
  return key.length >= 3 && key.length <= MAX_SECRET_KEY_LENGTH && SECRET_KEYS.has(normalizeKey(key));
}

/** isSecretKey, plus the keys that carry credentials in an authentication command. */
export function isAuthenticationSecretKey(key: string): boolean {
  if (key.length < 3 || key.length > MAX_SECRET_KEY_LENGTH) return false;
  const normalized = normalizeKey(key);
  return SECRET_KEYS.has(normalized) || AUTHENTICATION_SECRET_KEYS.has(normalized);
}

/**
 * The user-info part of a MongoDB connection string: scheme, user (up to the first `:`), password. The password runs
 * to the last `@` before the host list ends (a `/`, `?`, `#` or white space), so an unescaped `@` in it is masked too.
 */
const CONNECTION_STRING_PASSWORD = /(mongodb(?:\+srv)?:\/\/[^\s:@/?#]*):[^\s/?#]*@/gi;

/** `text` with the password of every MongoDB connection string in it replaced by `***`. */
export function maskConnectionStrings(text: string): string {
  // Cheap precheck: most strings hold no "://" at all.
  if (!text.includes('://')) return text;
  return text.replace(CONNECTION_STRING_PASSWORD, `$1:${MASKED}@`);
}

/** A string value as the log shows it: `***` when a deployment pattern matches, else with connection passwords masked. */
export function maskText(text: string, patterns: readonly RegExp[]): string {
  // String.prototype.search ignores lastIndex, so /g and /y patterns behave the same on every call.
  for (const pattern of patterns) if (text.search(pattern) !== -1) return MASKED;
  return maskConnectionStrings(text);
}
