/**
 * Best-effort PII redaction in free text. Each detector finds candidates with a regular expression and keeps only
 * those its validator accepts (see ./validators.ts), so look-alikes (an order number failing Luhn, a version
 * string, a 64-hex hash) stay. Accepted spans are replaced by a typed tag such as `[EMAIL]`.
 */
import { parsePhoneNumber } from 'awesome-phonenumber';
import type { PiiKind } from '../../../shared/schemas/anonymizationReport.js';
import { cardValid, ethAddressValid, ibanValid, ipv4Valid, ipv6Valid, ssnValid } from './validators.js';

/** One redacted span of the input text. */
export interface PiiSpan {
  kind: PiiKind;
  start: number;
  end: number;
}

/** What the redactor needs besides the text. */
export interface RedactorOptions {
  /** Regions whose national phone formats are tried, in order (E.164 numbers need none). */
  phoneRegions: readonly string[];
  /** Lower-case name tokens (see {@link nameTokens}) redacted as whole words. */
  names: ReadonlySet<string>;
  /** Lower-case identifier and join-key values (see {@link identifierToken}) redacted as whole tokens. */
  identifiers?: ReadonlySet<string>;
}

/** Regions tried for national phone formats when the policy names none. */
export const DEFAULT_PHONE_REGIONS: readonly string[] = ['US', 'GB', 'DE', 'FR'];

/** The tag a span of `kind` is replaced with. */
export function tagOf(kind: PiiKind): string {
  return `[${kind.toUpperCase()}]`;
}

type Detector = (text: string, opts: RedactorOptions) => PiiSpan[];

function matches(re: RegExp, text: string, kind: PiiKind, valid: (s: string) => boolean): PiiSpan[] {
  const out: PiiSpan[] = [];
  for (const m of text.matchAll(re)) {
    if (valid(m[0])) out.push({ kind, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

const EMAIL_RE =
  /(?<![\w.%+'-])[A-Za-z0-9][A-Za-z0-9._%+'-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])/g;
const ETH_RE = /(?<!\w)0x[0-9a-fA-F]{40}(?!\w)/g;
const IBAN_RE = /(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}/g;
const CARD_RE = /(?<![\w+]|\d[ -])\d(?:[ -]?\d){12,18}(?!\w|[ -]\d)/g;
const SSN_RE = /(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-]|[ ]\d)/g;
const IPV4_RE = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)/g;
const IPV6_RE = /(?<![\w:.])[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?![\w:])/g;
const PHONE_RE = /(?<![\w+.])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,5}(?:[ .-]?\d{1,5}){1,6}(?!\w|\.\d)/g;
/** Words before a number that make it a reference, not a phone ("order #0123456789", "invoice no. 01234567"). */
const ORDER_CUE_RE = /(?:#|(?<!\p{L})(?:order|invoice|inv|ref(?:erence)?|ticket|tracking|sku|isbn|serial|case|po|bestellung|rechnung|commande|facture)\s*(?:no\.?|nr\.?|number|num\.?|:)?\s*)\s*$/iu;
const NANP_GROUPS = new Set(['10', '3-3-4', '3-7', '1-3-3-4', '1-10', '1-3-7', '11']);
const PHONE_NOT_DATE_RE = /^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$/;

const MONTHS =
  'jan(?:uary|uar)?|feb(?:ruary|ruar)?|m(?:ar(?:ch)?|ärz|aerz)|apr(?:il)?|ma[iy]|june?|juni|july?|juli|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|okt(?:ober)?|nov(?:ember)?|de[cz](?:ember)?|janvier|février|fevrier|mars|avril|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre';
const DATE_RE = new RegExp(
  [
    String.raw`\d{4}-\d{1,2}-\d{1,2}`,
    String.raw`\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})`,
    String.raw`(?:\d{1,2}(?:st|nd|rd|th|er)?\.?\s+)?(?:${MONTHS})\.?\s+(?:\d{1,2}(?:st|nd|rd|th)?,?\s+)?\d{4}`,
  ]
    .map((p) => `(?<![\\p{L}\\d])(?:${p})(?![\\p{L}\\d])`)
    .join('|'),
  'giu',
);
const DOB_CUE_RE =
  /(?<!\p{L})(?:d\.?o\.?b\.?|born(?:\s+on)?|date\s+of\s+birth|birth\s?date|birthday|geboren(?:\s+am)?|geburtsdatum|geb\.|née?(?:\s+le)?|date\s+de\s+naissance|fecha\s+de\s+nacimiento|nacid[oa])(?!\p{L})/giu;
const NAME_WORD_RE = /[\p{L}\p{M}][\p{L}\p{M}'’-]*/gu;
const TOKEN_RE = /[^\s,;:()[\]{}"'<>]+/gu;

function detectIban(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  for (const m of text.matchAll(IBAN_RE)) {
    // The candidate may run into the next word ("... 3000 AND"): try it, then shorter prefixes.
    for (let end = m[0].length; end >= 15; end--) {
      const s = m[0].slice(0, end);
      if (s.endsWith(' ')) continue;
      if (ibanValid(s)) {
        out.push({ kind: 'iban', start: m.index, end: m.index + end });
        break;
      }
    }
  }
  return out;
}

function detectIpv6(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  for (const m of text.matchAll(IPV6_RE)) {
    const s = m[0].replace(/[.:]+$/, (tail) => (tail.startsWith('::') ? '::' : ''));
    if ((s.match(/:/g) ?? []).length >= 2 && /[0-9A-Fa-f]/.test(s) && ipv6Valid(s)) {
      out.push({ kind: 'ipv6', start: m.index, end: m.index + s.length });
    }
  }
  return out;
}

const digitsOf = (s: string): string => s.replace(/\D/g, '');

function phoneValid(candidate: string, regions: readonly string[]): boolean {
  const digits = digitsOf(candidate);
  if (digits.length < 7 || digits.length > 15 || PHONE_NOT_DATE_RE.test(candidate) || /^\d+(?:\.\d+){3,}$/.test(candidate)) return false;
  if (candidate.startsWith('+')) return parsePhoneNumber(candidate).valid;
  return regions.some((regionCode) => {
    const pn = parsePhoneNumber(candidate, { regionCode });
    if (!pn.valid) return false;
    // libphonenumber accepts a national number without its trunk prefix ("123456789" in DE): insist on the
    // national form as written (with the leading 0 where the region has one), or the country code spelled out
    // with separators ("1-202-555-0143"), so that bare invoice and order numbers are not taken for phones.
    const asWritten = digits === digitsOf(pn.number.national) || (digits === `${pn.countryCode}${pn.number.significant}` && /[ .()-]/.test(candidate));
    // North American numbers are grouped 3-3-4 (or not at all): "2025-000123" is an order number, not a phone.
    return asWritten && (pn.countryCode !== 1 || NANP_GROUPS.has(candidate.match(/\d+/g)?.map((g) => g.length).join('-') ?? ''));
  });
}

function detectPhone(text: string, opts: RedactorOptions): PiiSpan[] {
  const out: PiiSpan[] = [];
  for (const m of text.matchAll(PHONE_RE)) {
    const before = text.slice(Math.max(0, m.index - 30), m.index);
    if (/[A-Z]{2}\d{2} $/.test(before) || ORDER_CUE_RE.test(before)) continue; // an IBAN-like code's tail, an order number
    // Two numbers separated by one space read as one candidate: try shorter prefixes ending at a group boundary.
    let s = m[0];
    while (s.replace(/\D/g, '').length >= 7) {
      if (phoneValid(s, opts.phoneRegions)) {
        out.push({ kind: 'phone', start: m.index, end: m.index + s.length });
        break;
      }
      const cut = s.search(/[ .-]\d{1,5}$/);
      if (cut <= 0) break;
      s = s.slice(0, cut);
    }
  }
  return out;
}

function detectDob(text: string): PiiSpan[] {
  const cues = [...text.matchAll(DOB_CUE_RE)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
  if (cues.length === 0) return [];
  const out: PiiSpan[] = [];
  for (const m of text.matchAll(DATE_RE)) {
    const start = m.index;
    const end = start + m[0].length;
    const near = cues.some((c) => {
      if (c.end <= start) return wordsBetween(text.slice(c.end, start)) <= 4;
      if (c.start >= end) return wordsBetween(text.slice(end, c.start)) <= 2;
      return false;
    });
    if (near) out.push({ kind: 'dob', start, end });
  }
  return out;
}

function wordsBetween(gap: string): number {
  if (/[.!?]\s/.test(gap) || gap.length > 40) return Infinity;
  return gap.split(/\s+/).filter((w) => /[\p{L}\d]/u.test(w)).length;
}

function detectNames(text: string, opts: RedactorOptions): PiiSpan[] {
  if (opts.names.size === 0) return [];
  const out: PiiSpan[] = [];
  for (const m of text.matchAll(NAME_WORD_RE)) {
    const word = m[0].normalize('NFC').toLowerCase();
    const bare = word.replace(/['’-]+$/, '');
    const stem = bare.replace(/['’]s$/, ''); // "Keller's": the name is "keller"
    const hit = opts.names.has(bare) ? bare : opts.names.has(stem) ? stem : undefined;
    if (hit === undefined) continue;
    const start = m.index;
    const end = start + m[0].length - (word.length - hit.length);
    const prev = out[out.length - 1];
    // "Jane Doe" is one [NAME], not two.
    if (prev && /^\s+$/.test(text.slice(prev.end, start))) prev.end = end;
    else out.push({ kind: 'name', start, end });
  }
  return out;
}

function detectIdentifiers(text: string, opts: RedactorOptions): PiiSpan[] {
  const ids = opts.identifiers;
  if (!ids || ids.size === 0) return [];
  const out: PiiSpan[] = [];
  for (const m of text.matchAll(TOKEN_RE)) {
    const token = m[0].replace(/[.!?]+$/, '');
    if (ids.has(token.normalize('NFC').toLowerCase())) out.push({ kind: 'identifier', start: m.index, end: m.index + token.length });
  }
  return out;
}

/** Detectors in priority order: an earlier detector's span wins over an overlapping later one. */
const DETECTORS: readonly Detector[] = [
  (t) => matches(EMAIL_RE, t, 'email', () => true),
  (t) => matches(ETH_RE, t, 'eth_address', ethAddressValid),
  detectIban,
  (t) => matches(CARD_RE, t, 'card', cardValid),
  (t) => matches(SSN_RE, t, 'ssn', ssnValid),
  detectIpv6,
  (t) => matches(IPV4_RE, t, 'ipv4', ipv4Valid),
  detectDob,
  detectPhone,
  detectIdentifiers,
  detectNames,
];

/**
 * Finds the PII spans of `text` (non-overlapping, in text order).
 *
 * @example
 * ```ts
 * findPii('mail bob@example.com', { phoneRegions: ['US'], names: new Set() }); // [{kind: 'email', start: 5, end: 20}]
 * ```
 */
export function findPii(text: string, opts: RedactorOptions): PiiSpan[] {
  const accepted: PiiSpan[] = [];
  for (const detect of DETECTORS) {
    for (const span of detect(text, opts)) {
      if (!accepted.some((a) => span.start < a.end && a.start < span.end)) accepted.push(span);
    }
  }
  return accepted.sort((a, b) => a.start - b.start);
}

/** Replaces every PII span of `text` by its tag; returns the new text and the spans found. */
export function redactText(text: string, opts: RedactorOptions): { text: string; spans: PiiSpan[] } {
  const spans = findPii(text, opts);
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + tagOf(s.kind);
    at = s.end;
  }
  return { text: out + text.slice(at), spans };
}

const HONORIFICS = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'jr', 'sr', 'ii', 'iii', 'iv', 'md', 'phd', 'dds', 'dvm']);

/**
 * The lower-case tokens of a name-column value that the redactor looks for: each word of two or more letters,
 * honorifics and suffixes (Mr, Dr, Jr, III...) left out so they are not redacted everywhere.
 */
export function nameTokens(value: string): string[] {
  return value
    .normalize('NFC')
    .toLowerCase()
    .split(/[\s,;/()]+/)
    .map((t) => t.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, ''))
    .filter((t) => [...t.matchAll(/\p{L}/gu)].length >= 2 && !HONORIFICS.has(t.replace(/\./g, '')));
}

/**
 * The form in which an identifier or join-key value is looked for in free text (lower case), or `undefined` when
 * it is too short to redact without hitting ordinary words and numbers (under 4 characters, or all digits under 6)
 * or spans several tokens.
 */
export function identifierToken(value: string | number | boolean | null): string | undefined {
  if (value === null || typeof value === 'boolean') return undefined;
  const s = String(value).normalize('NFC').toLowerCase();
  if (s.length < 4 || (/^\d+$/.test(s) && s.length < 6)) return undefined;
  const tokens = s.match(TOKEN_RE);
  return tokens?.length === 1 && tokens[0] === s ? s : undefined;
}
