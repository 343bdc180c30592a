/**
 * Text that users, databases or the server control (collection and command names, client metadata, resource
 * names, error messages), made safe to print in a terminal or show in VS Code. Characters that act instead of
 * showing become visible escapes: a collection named "\x1b[2J" must not clear an admin's screen, and a name with
 * U+202E must not show its characters in reverse order.
 *
 * Escaped, everywhere:
 * - C0 controls U+0000–U+001F: ESC starts terminal sequences; CR, LF and TAB would break a one-line field or
 *   forge a line of output. Written `\t`, `\n`, `\r`, else `\xHH`.
 * - DEL U+007F (`\x7f`) and the C1 controls U+0080–U+009F (`\u009b`: some terminals take U+009B as CSI).
 * - The bidi and format characters that reorder or hide text: U+061C, U+200E, U+200F, U+202A–U+202E,
 *   U+2066–U+2069, the line and paragraph separators U+2028 and U+2029 (editors break lines at them), and U+FEFF.
 * Everything else, non-ASCII included ("café", "注文"), is shown as it is.
 *
 * Non-ASCII characters are escaped as `\uHHHH`, never `\xHH`, so that an escaped value is also what bash's and
 * zsh's $'…' quoting reads back (the CLI prints such names that way in commands to paste).
 */

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
const UNSAFE_OR_BACKSLASH = /[\\\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

const SHORT_ESCAPES: Readonly<Record<string, string>> = Object.freeze({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' });

function escapeCharacter(char: string): string {
  const short = SHORT_ESCAPES[char];
  if (short) return short;
  const code = char.charCodeAt(0);
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * One value (a name, a cell, a label) as one line of visible characters.
 *
 * The backslash is escaped too (`\\`): otherwise a collection someone named with the four characters `\x1b`
 * would print exactly like one whose name holds a real ESC, and anyone could forge what the escapes report.
 * With it, each printed value stands for exactly one original, which an audit trail needs.
 */
export function displayText(value: string): string {
  return value.replace(UNSAFE_OR_BACKSLASH, escapeCharacter);
}

/**
 * A whole message (an error from the server, a library or our own wording around such text) as one line: the
 * same escapes as displayText except that backslashes stay as written, so Windows paths and the shell quoting in
 * hints like `--resource 'ops'\''s'` read as they should. Use displayText for a value on its own.
 */
export function displayMessage(message: string): string {
  return message.replace(UNSAFE, escapeCharacter);
}

/**
 * One line of JSON text: the same characters, escaped the JSON way (`\u001b`, `\u202e`), so it stays JSON that
 * parses to the same value. JSON.stringify leaves DEL, C1 and the bidi characters raw inside strings; backslashes
 * are left alone because JSON's own escapes already tell a real control character from typed text.
 */
export function displayJson(json: string): string {
  return json.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
