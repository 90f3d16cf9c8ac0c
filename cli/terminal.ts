/**
 * What the CLI prints comes partly from other people (listing titles, descriptions, tags, API error messages).
 * A terminal interprets control characters: an escape sequence in a title could retitle the window, clear the
 * screen, or rewrite what the user sees (OSC 8 links, cursor moves), and bidi overrides reorder the text shown.
 * Every human-readable line goes through {@link safeText}; JSON output through {@link safeJson}.
 */

/**
 * C0 controls except tab and newline, DEL, C1 controls, and the Unicode bidi controls (ALM, LRM, RLM, the
 * embeddings/overrides U+202A-U+202E and the isolates U+2066-U+2069), plus the line/paragraph separators.
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** What `JSON.stringify` leaves raw from that set (it escapes C0 controls itself). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeOf(c: string): string {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/**
 * Makes text safe to write to a terminal: every control character that a terminal acts on (ESC, BEL, CR, the
 * C1 controls such as CSI U+009B) and every bidi control is shown as a visible escape (`\x1b`, `\u202e`) instead
 * of being written raw. Tab and newline pass (the CLI's own layout uses them). A backslash is left as it is: the
 * output is for eyes, not for parsing (use `--json` for that).
 */
export function safeText(text: string): string {
  return text.replace(UNSAFE, escapeOf);
}

/**
 * `JSON.stringify` with the characters it leaves raw but a terminal acts on (DEL, C1 controls, bidi controls,
 * U+2028/U+2029) written as `\uXXXX` escapes. The result is still JSON and parses to the same value; C0
 * controls are already escaped by `JSON.stringify`.
 */
export function safeJson(value: unknown, space: number | undefined = 2): string {
  return JSON.stringify(value, null, space).replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
