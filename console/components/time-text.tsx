/** A time in the viewer's time zone, with the exact UTC time on hover (and for screen readers, in the title). */

const LOCAL = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function TimeText({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span>-</span>;
  const date = new Date(iso);
  const utc = `${date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')} UTC`;
  return (
    <time dateTime={iso} title={utc}>
      {LOCAL.format(date)}
    </time>
  );
}

export function durationText(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  if (minutes < 60) return rest ? `${minutes}m ${rest}s` : `${minutes}m`;
  return minutes % 60 ? `${Math.floor(minutes / 60)}h ${minutes % 60}m` : `${Math.floor(minutes / 60)}h`;
}
