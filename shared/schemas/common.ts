/**
 * Wire primitives shared by every schema. Amounts travel as decimal strings (bigint has no JSON form);
 * addresses are accepted in any case and returned checksummed.
 */
import { CID } from 'multiformats/cid';
import * as z from 'zod';
import { checksumAddress, tryChecksumAddress } from '../encoding/address.js';

const MAX_UINT256 = (1n << 256n) - 1n;

/**
 * An EVM address; output is EIP-55 checksummed.
 *
 * @example
 * ```ts
 * Address.parse('0xabc…') // => '0xAbC…'
 * ```
 */
export const Address = z
  .string()
  .refine((s) => /^0x[0-9a-fA-F]{40}$/.test(s) && tryChecksumAddress(s) !== undefined, { message: 'must be a 0x-prefixed 20-byte address' })
  .transform((s) => checksumAddress(s))
  .meta({ description: 'EVM address (EIP-55 checksummed on output)', example: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' });
export type Address = z.output<typeof Address>;

/** A non-negative integer amount of token base units, as a decimal string (uint256 range). */
export const TokenAmount = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,77})$/, 'must be a non-negative integer as a decimal string (base units)')
  .refine((s) => BigInt(s) <= MAX_UINT256, 'must fit in uint256')
  .meta({ description: 'Token base units as a decimal string', example: '1500' });

/** A strictly positive {@link TokenAmount}. */
export const PositiveTokenAmount = TokenAmount.refine((s) => BigInt(s) > 0n, 'must be greater than zero');

/** A 0x-prefixed 32-byte hex string. */
export const Bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 0x followed by 64 hex digits');

/** A CID string (any version/base that multiformats can parse). Output is normalized to its string form. */
export const CidString = z
  .string()
  .max(200)
  .refine((s) => {
    try {
      CID.parse(s);
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid CID')
  .meta({ description: 'IPFS CID', example: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy' });

/** Basis points: 1..10000. */
export const Bps = z.number().int().min(1).max(10_000);

/** An ISO-8601 timestamp string. */
export const IsoDate = z.iso.datetime();

/**
 * `z.array(item)` with `min`/`max` whose parse stops at the first bad element and reports only its issues.
 *
 * Why: `z.array` reports every bad element; 100,000 empty objects (300 KB of JSON) held 161 MiB of issues and
 * 700,000 zeros in a chunk list 380 MiB, so a small body could exhaust the API's heap. Use it for any request
 * array allowed to be long. Types and JSON Schema (input and output) are those of the plain array.
 *
 * @example
 * ```ts
 * const Body = z.strictObject({ files: boundedArray(ManifestFile, { max: 100_000 }) });
 * ```
 */
export function boundedArray<T extends z.ZodType>(item: T, bounds: { min?: number; max: number }): z.ZodType<z.output<z.ZodArray<T>>, z.input<z.ZodArray<T>>> {
  const array = z.array(item).min(bounds.min ?? 0).max(bounds.max);
  const firstBad = z.transform((value: unknown, ctx) => {
    // Not an array, or too long: the array schema reports it with one issue.
    if (!Array.isArray(value) || value.length > bounds.max) return value;
    for (let i = 0; i < value.length; i++) {
      const r = item.safeParse(value[i]);
      if (r.success) continue;
      for (const issue of r.error.issues.slice(0, 10)) ctx.addIssue({ code: 'custom', path: [i, ...issue.path], message: issue.message });
      return z.NEVER;
    }
    return value;
  });
  // A pipe's input type is unknown (the transform's); the input the API accepts is exactly the array's.
  return firstBad.pipe(array) as unknown as z.ZodType<z.output<z.ZodArray<T>>, z.input<z.ZodArray<T>>>;
}

/**
 * Characters a text field never holds: C0 and C1 controls and DEL (a terminal obeys escape sequences and carriage
 * returns in a title it prints), the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069) and the invisible direction marks (U+200E, U+200F, U+061C), which make text read differently from
 * what it holds.
 */
const UNSAFE_TEXT = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
/** In a single-line field, also the Unicode line and paragraph separators. */
const UNSAFE_LINE = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]/u;

function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * A string a person reads (a title, a description, a column name): it refuses control and bidirectional-override
 * characters with one issue naming the first one and its position. Single-line fields (the default) refuse every
 * C0 control, tabs and line breaks included; `multiline` fields (descriptions) accept line feeds and tabs, and
 * turn CR LF and a lone CR into LF. `trim` trims surrounding white space first; `min`/`max` count the result.
 *
 * @example
 * ```ts
 * const Listing = z.object({ title: plainText({ min: 1, max: 200, trim: true }), description: plainText({ max: 20_000, multiline: true }) });
 * ```
 */
export function plainText(options: { min?: number; max: number; multiline?: boolean; trim?: boolean }) {
  let s = z.string();
  if (options.multiline) s = s.overwrite((v) => v.replace(/\r\n?/g, '\n'));
  if (options.trim) s = s.trim();
  if (options.min !== undefined) s = s.min(options.min);
  s = s.max(options.max);
  const multiline = options.multiline === true;
  return s.superRefine((v, ctx) => {
    const m = (multiline ? UNSAFE_TEXT : UNSAFE_LINE).exec(multiline ? v.replace(/[\n\t]/g, ' ') : v);
    if (!m) return;
    const what = multiline ? 'control or bidirectional-override characters (line feeds and tabs are allowed)' : 'control, line-break or bidirectional-override characters';
    ctx.addIssue({ code: 'custom', message: `must not contain ${what}: ${codePoint(m[0])} at position ${m.index}` });
  });
}

/** A page request: `limit` (1..100, default 20) and an opaque `cursor` from the previous page. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2000).optional(),
});
export type PageQuery = z.output<typeof PageQuery>;

/** A page of `T` with the cursor for the next page (absent on the last page). */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().optional() });
}

/** A listing id: `ds_` + 26 base32 characters. */
export const DatasetId = z.string().regex(/^ds_[0-9a-z]{26}$/, 'must be a dataset id (ds_ + 26 base32 characters)');

/** Path parameters of `/v1/datasets/{id}`. */
export const DatasetIdParams = z.object({ id: DatasetId });

/**
 * 0x-prefixed hex of at most `maxBytes` bytes. The length is checked before the pattern, and the pattern has no
 * repeated group, so a multi-megabyte string costs one linear scan (a `(..)+` group overflowed the regex stack).
 */
export function hexBytes(maxBytes: number, message = 'must be 0x-prefixed hex bytes') {
  return z
    .string()
    .max(2 + 2 * maxBytes, `must be at most ${maxBytes} bytes`)
    .refine((s) => s.length <= 2 + 2 * maxBytes && s.length > 2 && s.length % 2 === 0 && /^0x[0-9a-fA-F]+$/.test(s), message);
}
