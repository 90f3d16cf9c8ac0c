/**
 * Test helpers for the attestation verifiers: the real fixtures (read from `../shared/fixtures` beside the
 * repository, where CI keeps a read-only copy) and byte mutations. Imported by tests only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvenaError } from '../errors.js';

/** The repository root (two levels above this file). */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** The shared fixtures folder. */
export const fixturesDir = path.resolve(repoRoot, '../shared/fixtures');

/** The real Nitro document (untagged COSE_Sign1) and the instant it verifies at. */
export const nitroFixture = {
  document: (): Buffer => Buffer.from(readFileSync(path.join(fixturesDir, 'nitro/aws-nitro-debug-2024-09-06.b64'), 'utf8').trim(), 'base64'),
  at: new Date('2024-09-06T04:33:12Z'),
  nonce: '0000000000000000000000000000000000000001',
  publicKey: Buffer.from('dummy').toString('hex'),
};

/** The real SEV-SNP report with its VCEK and Milan ASK+ARK PEM, and an instant inside the VCEK's validity. */
export const snpFixture = {
  report: (): Buffer => readFileSync(path.join(fixturesDir, 'sev-snp/attestation.bin')),
  vcek: (): Buffer => readFileSync(path.join(fixturesDir, 'sev-snp/vcek.testcer')),
  chainPem: (): Buffer => readFileSync(path.join(fixturesDir, 'sev-snp/milan.testcer')),
  at: new Date('2024-01-01T00:00:00Z'),
};

/** A copy of `b` with byte `i` XORed with `mask` (non-zero). */
export function flip(b: Uint8Array, i: number, mask = 0x01): Buffer {
  const out = Buffer.from(b);
  out[i] = out[i]! ^ mask;
  return out;
}

/** What a synchronous call ended with: 'OK' or the ProvenaError code (anything else is rethrown). */
export function codeOfSync(f: () => unknown): string {
  try {
    f();
    return 'OK';
  } catch (err) {
    if (err instanceof ProvenaError) return err.code;
    throw err;
  }
}
