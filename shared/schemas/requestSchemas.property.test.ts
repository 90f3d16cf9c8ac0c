/**
 * Every request schema, fed arbitrary and adversarial values (huge numbers, long strings, deep nesting, huge
 * arrays), answers within a bounded amount of memory per request; an accepted upload start also plans within
 * bounds. Measured as heap growth (gc'd before each request) while the parse result and plan are still held,
 * not as time: issue 8 item 1 was a request that allocated ~16.7 M plan entries before any limit was checked.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { z } from 'zod';
import { DatasetInput, DatasetListQuery, DatasetPatch } from './dataset.js';
import { S3_MAX_PARTS } from './encryptedManifest.js';
import { KeyReleaseInput } from './keyRelease.js';
import { RegistrationBody } from './registration.js';
import { MAX_UPLOAD_CHUNKS, UploadCompleteInput, UploadStartInput, planUpload } from './upload.js';

/** A forced full GC: jest runs tests in a vm context without `gc`; the flag exposes it to a fresh context. */
function findGc(): ((options?: never) => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as (options?: never) => void;
  } catch {
    return undefined;
  }
}
const gc = findGc();

/** Most heap a single request's parse (and plan) may hold: a 10,000-part plan is under 2 MiB. */
const MAX_HEAP_GROWTH = 16 * 1024 * 1024;

const OWNER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const MiB = 1024 * 1024;

function deep(depth: number, leaf: unknown, asObject: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
}

/** Built once, outside the measured section: the request body is already in memory when the parse runs. */
const LONG = 'x'.repeat(4 * MiB);
const LONG_HEX = `0x${'ab'.repeat(2 * MiB)}`;
const LONG_DIGITS = '9'.repeat(MiB);
const DEEP_ARRAY = deep(50_000, 1, false);
const DEEP_OBJECT = deep(50_000, 1, true);
const HUGE_ARRAY = new Array(1_000_000).fill(0);
const HUGE_ARRAY_OF_OBJECTS = Array.from({ length: 100_000 }, () => ({ partNumber: 1, etag: 'e' }));
/** Under the chunk list's 800,000 limit, every element bad: z.array alone held 380 MiB of issues for it. */
const LONG_ARRAY_UNDER_LIMITS = new Array(700_000).fill(0);
const EMPTY_OBJECTS = Array.from({ length: 100_000 }, () => ({}));

/** Values that have broken parsers: numeric edges, long strings, deep nesting, very long arrays. */
const adversarial: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    2 ** 40, 2 ** 40 - 1, 2 ** 40 + 1, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, 1e308, -1e308,
    Infinity, -Infinity, NaN, -0, 0.5, 65_536, 65_535, 2 ** 31, 2 ** 32, -1,
    LONG, LONG_HEX, LONG_DIGITS, DEEP_ARRAY, DEEP_OBJECT, HUGE_ARRAY, HUGE_ARRAY_OF_OBJECTS, LONG_ARRAY_UNDER_LIMITS, EMPTY_OBJECTS,
    null, undefined, true, '', '__proto__', { __proto__: null }, { constructor: 1 },
  ),
  fc.double(),
  fc.bigInt().map(String),
  fc.string({ maxLength: 300 }),
  fc.anything({ maxDepth: 4, maxKeys: 6 }),
);

/** A valid base with some fields replaced (or added) by adversarial values, or any value at all. */
function requests(base: Record<string, unknown>, extraKeys: readonly string[] = []): fc.Arbitrary<unknown> {
  const keys = [...Object.keys(base), ...extraKeys, 'unknownField'];
  return fc.oneof(
    fc.dictionary(fc.constantFrom(...keys), adversarial, { maxKeys: 3 }).map((over) => ({ ...base, ...over })),
    fc.dictionary(fc.constantFrom(...keys), adversarial, { maxKeys: keys.length }),
    adversarial,
  );
}

const validListing = {
  title: 'Retail',
  description: 'rows',
  tags: ['retail'],
  dataSchema: { kind: 'tabular', columns: [{ name: 'email', type: 'string' }] },
  sizeBytes: 1000,
  sampleCount: 10,
  license: { paymentToken: OWNER, pricePerSample: '25', allowedUses: ['training'], expiryOptionsDays: [30] },
  royaltySplit: [{ recipient: OWNER, bps: 10_000 }],
  anonymization: { identifierColumns: ['email'], redactTextPii: true },
};
const hex32 = 'ab'.repeat(32);
const validComplete = {
  parts: [{ partNumber: 1, etag: 'e' }],
  cipher: { alg: 'AES-256-GCM', formatVersion: 1, aadVersion: 1, nonceScheme: 'hkdf-sha256-stream-key+counter64', chunkSize: 65_536, tagLength: 16, salt: hex32, keyCommitment: hex32 },
  chunks: [{ ciphertextSize: 16, sha256: hex32 }],
  sealedDataKey: { scheme: 'ecies-secp256k1-hkdf-sha256-aes256gcm-v1', ephemeralPublicKey: `0x02${hex32}`, nonce: '0x00', ciphertext: '0x00', context: '{}' },
};

const cases: { name: string; schema: z.ZodType; input: fc.Arbitrary<unknown> }[] = [
  { name: 'dataset create (DatasetInput)', schema: DatasetInput, input: requests(validListing) },
  { name: 'dataset patch (DatasetPatch)', schema: DatasetPatch, input: requests({ title: 'x', expectedVersion: 1 }, Object.keys(validListing)) },
  { name: 'dataset list query (DatasetListQuery)', schema: DatasetListQuery, input: requests({ limit: '20', cursor: 'c', tag: 'a', owner: OWNER, q: 'x', status: 'active' }) },
  { name: 'upload complete (UploadCompleteInput)', schema: UploadCompleteInput, input: requests(validComplete) },
  { name: 'registration (RegistrationBody)', schema: RegistrationBody, input: requests({ nonce: '1', deadline: '1', signature: '0x00' }) },
  {
    name: 'key release (KeyReleaseInput)',
    schema: KeyReleaseInput,
    input: requests({
      version: 1,
      grant: { type: 'job', jobId: '1', licenseId: '1' },
      requester: { address: OWNER, publicKey: `0x02${hex32}` },
      proof: { nonce: `0x${hex32}`, issuedAt: 0, signature: '0x00' },
    }),
  },
];

/** Heap held after `fn` runs (its result still referenced), from a collected heap before it. */
function heapGrowth(fn: () => unknown): { growth: number; result: unknown } {
  // A minor (young-generation) collection is enough: what a request allocates and holds starts there, or in
  // large-object space for big arrays, and a full collection per run would make this test take minutes.
  gc?.({ type: 'minor' } as never);
  const before = process.memoryUsage().heapUsed;
  const result = fn();
  const growth = process.memoryUsage().heapUsed - before;
  return { growth, result };
}

describe('request schemas under arbitrary and adversarial input', () => {
  it('can force a garbage collection, so heap growth is measured rather than assumed', () => {
    expect(typeof gc).toBe('function');
  });

  for (const { name, schema, input } of cases) {
    it(`${name} answers every request within a bounded heap`, () => {
      fc.assert(
        fc.property(input, (body) => {
          const { growth, result } = heapGrowth(() => schema.safeParse(body));
          expect(result).toHaveProperty('success');
          expect(growth).toBeLessThan(MAX_HEAP_GROWTH);
        }),
        { numRuns: 100 },
      );
    });
  }

  it('upload start (UploadStartInput) either refuses a size or plans it within the part and chunk limits and a bounded heap', () => {
    const size = fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom(2 ** 40, 2 ** 40 - 1, 2 ** 40 + 1, 2 ** 53, 0, 1), adversarial);
    const chunk = fc.oneof(fc.integer({ min: 64 * 1024, max: 64 * MiB }), fc.constantFrom(65_536, 65_535, 64 * MiB, 64 * MiB + 1, 4 * MiB), adversarial);
    const body = fc.oneof(
      fc.record({ format: fc.constantFrom('csv', 'jsonl', 'parquet'), plaintextSize: size, chunkSize: chunk }),
      requests({ format: 'csv', plaintextSize: 1, chunkSize: 65_536 }, ['files']),
    );
    fc.assert(
      fc.property(body, (b) => {
        const { growth, result } = heapGrowth(() => {
          const r = UploadStartInput.safeParse(b);
          return r.success ? { r, plan: planUpload(r.data.plaintextSize, r.data.chunkSize) } : { r };
        });
        const out = result as { plan?: ReturnType<typeof planUpload> };
        if (out.plan) {
          expect(out.plan.parts.length).toBeLessThanOrEqual(S3_MAX_PARTS);
          expect(out.plan.chunkCount).toBeLessThanOrEqual(MAX_UPLOAD_CHUNKS);
        }
        expect(growth).toBeLessThan(MAX_HEAP_GROWTH);
      }),
      { numRuns: 200 },
    );
  });
});
