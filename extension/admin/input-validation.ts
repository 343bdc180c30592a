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
