/** Input box checks; each returns the message shown under the box, or undefined when the value is fine. */

export function validateName(value: string): string | undefined {
  const v = value.trim();
  if (v === '') return 'enter a name';
  if (v.length > 200) return 'use at most 200 characters';
  return undefined;
}

/** Catches the common mistakes early; the server validates the string fully. Never echoes the value. */
export function validateConnectionString(value: string): string | undefined {
  const v = value.trim();
  if (!/^mongodb(\+srv)?:\/\/[^\s]+$/.test(v)) return 'start with mongodb:// or mongodb+srv:// followed by a host';
  const authority = v.replace(/^mongodb(\+srv)?:\/\//, '').split(/[/?]/)[0];
  if (authority.includes('@')) {
    return 'leave out the user name and password: they belong to accounts, which Portcullis keeps encrypted';
  }
  return undefined;
}

export function validatePositiveMinutes(value: string): string | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 && n <= 7 * 24 * 60 ? undefined : 'enter a number of minutes between 1 and 10080, or leave it empty';
}

/** Like validatePositiveMinutes, for a value that must be given (an account's maximum duration when edited). */
export function validateRequiredMinutes(value: string): string | undefined {
  if (value.trim() === '') return 'enter a number of minutes between 1 and 10080';
  return validatePositiveMinutes(value);
}

/** A CA file's content: PEM with at least one certificate. Says what is wrong without quoting the file. */
export function checkCaCertificate(text: string, fileName: string): string {
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(text)) {
    throw new Error(`${fileName} is not a PEM certificate (no BEGIN CERTIFICATE block); choose the CA's certificate file in PEM format`);
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new Error(`${fileName} contains a private key; choose a file with only the CA's certificate`);
  }
  return text;
}
