/** The CLI line that starts the same session as Access: `portcullis access --resource NAME --account NAME`. */
export function cliAccessCommand(resourceName: string, accountName: string): string {
  return `portcullis access --resource ${shellQuote(resourceName)} --account ${shellQuote(accountName)}`;
}

/** Leaves plain names as they are and single-quotes the rest, so the line pastes into a POSIX shell intact. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9._\-/:@+=,]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
