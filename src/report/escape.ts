/**
 * Untrusted text (file names, paths, manifest fields, API answers) made safe for one log line.
 *
 * The runner reads every stdout line that starts, after leading blanks, with `::` as a workflow
 * command. A line break inside an untrusted string would let that string start such a line; other
 * control characters (ESC for terminal colours, NUL, …) can disguise text in the log. So every one
 * of them is shown as a visible escape instead, and a line that would read as a command is defused.
 */

// C0 controls (tab aside: it cannot break a line and is common in real text), DEL, C1 controls
// (U+0085 is NEL, a line break to some readers), and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000A-\u001F\u007F-\u009F\u2028\u2029]/g

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\0': '\\0', '\f': '\\f', '\v': '\\v', '\b': '\\b' }

function visible(ch: string): string {
  const named = NAMED[ch]
  if (named) return named
  const code = ch.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** `value` as text with every line break and control character shown as an escape (`\n`, `\x1b`, `\u2028`). */
export function esc(value: unknown): string {
  return String(value).replace(UNSAFE, visible)
}

/**
 * One log line that cannot be read as a workflow command: `esc` on the whole text, and a leading
 * `::` (after blanks) shown as `\::`, so a line made mostly of an untrusted name stays plain text.
 */
export function safeLine(text: string): string {
  return esc(text).replace(/^(\s*)::/, '$1\\::')
}
