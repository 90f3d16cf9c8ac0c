import { randomBytes } from 'node:crypto';
import type { ContentStore } from '../ports/ContentStore.js';
import type { DatasetRepo } from '../ports/DatasetRepo.js';

/** What the listing use cases need. Handlers build it from config once per cold start. */
export interface ListingDeps {
  datasets: DatasetRepo;
  content: ContentStore;
  /** The current time (injected so tests and replays are deterministic). */
  now(): Date;
}

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lowercase

/** Encodes bytes in lowercase Crockford base32 (no padding). */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** A new dataset id: `ds_` + 26 base32 characters (130 random bits), or derived from `seed` when given. */
export function datasetId(seed?: Uint8Array): string {
  return `ds_${base32(seed ?? randomBytes(17)).slice(0, 26)}`;
}
