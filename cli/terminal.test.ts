import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { safeJson, safeText } from './terminal.js';

/** Every character a terminal acts on or that reorders what it shows (tab and newline aside). */
const DANGEROUS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Strings rich in the characters that matter: controls, bidi controls, and any other code point. */
const hostile = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0x9f }).map((n) => String.fromCharCode(n)),
    fc.constantFrom('\u061c', '\u200e', '\u200f', '\u2028', '\u2029', '\u202a', '\u202e', '\u2066', '\u2069', '\\'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
});

describe('safeText', () => {
  it('shows an OSC window-title sequence as visible escapes instead of writing ESC and BEL', () => {
    expect(safeText('\u001b]0;pwned\u0007Title')).toBe('\\x1b]0;pwned\\x07Title');
  });

  it('shows a clear-screen CSI, a carriage return and an 8-bit CSI visibly', () => {
    expect(safeText('a\u001b[2Jb\rc\u009b31m')).toBe('a\\x1b[2Jb\\x0dc\\x9b31m');
  });

  it('shows bidi overrides and isolates as \\u escapes', () => {
    expect(safeText('invoice\u202Efdp.exe \u2066x\u2069 \u200f')).toBe('invoice\\u202efdp.exe \\u2066x\\u2069 \\u200f');
  });

  it('leaves ordinary text, tabs, newlines and non-Latin scripts as they are', () => {
    const text = 'Clinical notes 2019–2023\tv1\n    owner 0xAbC  日本語 العربية émoji 🙂';
    expect(safeText(text)).toBe(text);
  });

  it('never lets a dangerous character through, whatever the input', () => {
    fc.assert(fc.property(hostile, (s) => !DANGEROUS.test(safeText(s))));
  });
});

describe('safeJson', () => {
  it('escapes C1 and bidi controls that JSON.stringify leaves raw, and parses back to the same value', () => {
    const value = { title: '\u001b]0;pwned\u0007 \u202Eevil \u009b2J \u2028', n: 1 };
    const text = safeJson(value);
    expect(JSON.stringify(value)).toMatch(/\u202E/);
    expect(text).not.toMatch(DANGEROUS);
    expect(text).toContain('\\u001b]0;pwned\\u0007');
    expect(text).toContain('\\u202e');
    expect(JSON.parse(text)).toEqual(value);
  });

  it('round-trips any value built from arbitrary strings, with nothing dangerous left raw', () => {
    fc.assert(
      fc.property(fc.dictionary(hostile, hostile), (v) => {
        const text = safeJson(v);
        return !DANGEROUS.test(text) && JSON.stringify(JSON.parse(text)) === JSON.stringify(v);
      }),
    );
  });
});
