import { displayText } from '../../proxy-core/display-text';

/**
 * `orders-db / reader`: how the extension names a session in notifications, quick picks, the status bar and
 * terminal tabs. Both names are admins' free text, so they are escaped (displayText) here, once.
 */
export function sessionLabel(names: { resourceName: string; accountName: string }): string {
  return `${displayText(names.resourceName)} / ${displayText(names.accountName)}`;
}
