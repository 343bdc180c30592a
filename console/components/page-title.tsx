/** A page's heading; focusable from script (not by Tab), so a new page can move the focus to its top. */
import type { ComponentChildren } from 'preact';

export function PageTitle({ children }: { children: ComponentChildren }) {
  return <h1 tabIndex={-1}>{children}</h1>;
}
