/** Cuts `text` to at most `maxBytes` UTF-8 bytes, marking the cut with how many bytes were removed. */
export function capText(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const total = Buffer.byteLength(text, 'utf8');
  if (total <= maxBytes) return { text, truncated: false };
  // The marker's own length depends on N; reserve room for the longest possible N.
  const reserve = Buffer.byteLength(`…[truncated ${total} bytes]`, 'utf8');
  const keep = Math.max(0, maxBytes - reserve);
  const kept = cutUtf8(text, keep);
  const removed = total - Buffer.byteLength(kept, 'utf8');
  return { text: `${kept}…[truncated ${removed} bytes]`, truncated: true };
}

/** The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`, never splitting a character. */
export function cutUtf8(text: string, maxBytes: number): string {
  if (text.length <= maxBytes / 3) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}
