import { formatSpan } from './duration-format';

/**
 * Times as the extension shows them: in the viewer's own time zone, in one fixed shape (`2026-01-01 11:00:05`), the
 * shape the CLI prints, so that a time reads the same in a tooltip, a log and a terminal whatever the locale.
 */

const pad = (n: number) => String(n).padStart(2, '0');

function toDate(value: string | Date): Date | undefined {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** `2026-01-01` in local time. */
export function formatLocalDate(value: string | Date): string {
  const d = toDate(value);
  return d ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` : String(value);
}

/** `11:00:05` in local time. */
export function formatLocalTime(value: string | Date): string {
  const d = toDate(value);
  return d ? `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` : String(value);
}

/** `2026-01-01 11:00:05` in local time. */
export function formatLocalDateTime(value: string | Date): string {
  const d = toDate(value);
  return d ? `${formatLocalDate(d)} ${formatLocalTime(d)}` : String(value);
}

/** `UTC+01:00`: the offset the local times above are in, said once where a document lists many. */
export function utcOffsetLabel(at: string | Date = new Date()): string {
  const d = toDate(at) ?? new Date();
  const minutes = -d.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** `45m left`, or `expired` once the time has passed. */
export function formatTimeLeft(expiresAt: string | Date, now: Date = new Date()): string {
  const d = toDate(expiresAt);
  if (!d) return '';
  const seconds = (d.getTime() - now.getTime()) / 1000;
  return seconds > 0 ? `${formatSpan(seconds)} left` : 'expired';
}

/** `2026-01-01 12:00:00 (in 45m)`: an end time with how far off it is. */
export function formatExpiry(expiresAt: string | Date, now: Date = new Date()): string {
  const d = toDate(expiresAt);
  if (!d) return String(expiresAt);
  const seconds = (d.getTime() - now.getTime()) / 1000;
  return `${formatLocalDateTime(d)} (${seconds > 0 ? `in ${formatSpan(seconds)}` : 'passed'})`;
}
