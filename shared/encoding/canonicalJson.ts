import { CID } from 'multiformats/cid';
import { ValidationError } from '../errors.js';

/**
 * Canonical JSON for content addressing: object keys sorted by UTF-16 code units (as RFC 8785 / JCS does),
 * no whitespace, numbers and strings as `JSON.stringify` writes them. Equal values therefore give equal bytes,
 * and so equal CIDs, whatever order their keys were built in.
 *
 * Unlike `JSON.stringify`, which silently drops or rewrites them, values JSON cannot carry are rejected with
 * `VALIDATION_FAILED`: `undefined`, bigint, functions, symbols, non-finite numbers, cycles, and objects that
 * are not plain (Date, Map, class instances...), since their `toJSON` form would not round-trip.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return write(value, ['$'], new Set());
}

function write(value: unknown, path: (string | number)[], seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) reject(path, `non-finite number ${value}`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (seen.has(value)) reject(path, 'cycle');
      seen.add(value);
      try {
        if (Array.isArray(value)) {
          // Index loop, not map(): map skips holes, which must be rejected like undefined.
          const out: string[] = [];
          for (let i = 0; i < value.length; i++) out.push(write(value[i], [...path, i], seen));
          return `[${out.join(',')}]`;
        }
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) reject(path, `not a plain object (${value.constructor?.name ?? 'unknown'})`);
        if (Object.getOwnPropertySymbols(value).length > 0) reject(path, 'symbol keys');
        const obj = value as Record<string, unknown>;
        const keys = Object.keys(obj).sort();
        return `{${keys.map((k) => `${JSON.stringify(k)}:${write(obj[k], [...path, k], seen)}`).join(',')}}`;
      } finally {
        seen.delete(value);
      }
    }
    default:
      // undefined, bigint, function, symbol
      return reject(path, `${typeof value} is not a JSON value`);
  }
}

function reject(path: (string | number)[], message: string): never {
  throw new ValidationError(`Not canonical-JSON-serializable at ${path.join('.')}: ${message}`, [{ path: path.slice(1), message }]);
}

/**
 * Parses a CID string (any multibase `CID.parse` accepts without a base hint: base32 `b...` CIDv1 or base58
 * `Qm...` CIDv0), turning a bad string into `VALIDATION_FAILED` instead of the library's plain Error.
 */
export function parseCid(cid: string): CID {
  try {
    return CID.parse(cid);
  } catch (err) {
    throw new ValidationError(`Invalid CID: ${JSON.stringify(cid.slice(0, 100))}`, [{ path: ['cid'], message: 'not a CID' }], err);
  }
}

/** Concatenates a stream of chunks (for small JSON documents only: it buffers everything). */
export async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of source) {
    chunks.push(c);
    total += c.byteLength;
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** Decodes UTF-8 JSON bytes; malformed UTF-8 or JSON is `VALIDATION_FAILED` (the port's rule for `getJson`). */
export function parseJsonBytes(bytes: Uint8Array, cid: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch (err) {
    throw new ValidationError(`Content ${cid} is not UTF-8 JSON`, [{ path: ['cid'], message: 'not JSON' }], err);
  }
}
