import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * "8h", "90m", "1h30m", "45s", "2d" or a plain number of seconds -> seconds. For commander option parsing:
 * throws InvalidArgumentError with the accepted forms.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+$/.test(trimmed)) return positive(Number(trimmed), text);
  const pattern = /(\d+)\s*([smhd])/g;
  let total = 0;
  let consumed = '';
  for (const match of trimmed.matchAll(pattern)) {
    total += Number(match[1]) * UNITS[match[2]];
    consumed += match[0];
  }
  if (consumed.replace(/\s/g, '') !== trimmed.replace(/\s/g, '') || consumed === '') {
    throw new InvalidArgumentError(`"${text}" is not a duration; use forms like 45m, 1h, 1h30m, 8h or 2d`);
  }
  return positive(total, text);
}

function positive(seconds: number, text: string): number {
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new InvalidArgumentError(`"${text}" must be a duration above zero`);
  return seconds;
}

export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new InvalidArgumentError(`"${text}" is not a port (1-65535)`);
  return port;
}

export function parseLimit(text: string): number {
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < 1 || limit > 1000) throw new InvalidArgumentError(`"${text}" is not a limit (1-1000)`);
  return limit;
}
