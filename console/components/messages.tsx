/** What went wrong (announced to screen readers at once), and what went right. */

export function ErrorMessage({ text }: { text: string }) {
  return (
    <p class="message error" role="alert">
      {text}
    </p>
  );
}

export function Notice({ text }: { text: string }) {
  return (
    <p class="message notice" role="status">
      {text}
    </p>
  );
}
