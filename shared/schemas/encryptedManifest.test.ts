import { describe, it, expect } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { encryptStream, generateDataKey } from '../crypto/chunkedAead.js';
import type { EncryptSummary } from '../crypto/chunkedAead.js';
import { hashConditions } from '../crypto/conditionsHash.js';
import { licenseHolderCondition } from '../adapters/chain/provenaConditions.js';
import { cipherParamsOf, EncryptedManifest, layoutChunks } from './encryptedManifest.js';
import type { EncryptedManifest as Manifest } from './encryptedManifest.js';

async function summaryOf(size: number, chunkSize: number): Promise<EncryptSummary> {
  async function* src(): AsyncGenerator<Uint8Array> {
    yield randomBytes(size);
  }
  const enc = encryptStream(src(), { key: generateDataKey(), datasetId: 'ds_1', version: 1, chunkSize });
  for await (const _ of enc) void _;
  return enc.summary();
}

async function manifest(): Promise<Manifest> {
  const s = await summaryOf(1000, 100);
  const accessConditions = licenseHolderCondition({ licenseManager: '0x' + '11'.repeat(20), chain: 'hardhat', datasetId: 1n });
  return {
    schema: 'provena.encrypted-manifest/v1',
    datasetId: 'ds_1',
    version: 1,
    dataFormat: 'csv',
    cipher: cipherParamsOf(s),
    chunks: layoutChunks(s.chunks, 300),
    totalPlaintextSize: s.plaintextSize,
    totalCiphertextSize: s.ciphertextSize,
    wrappedKey: { backend: 'embedded', masterKeyId: 'mk_1', ciphertext: randomBytes(60).toString('base64'), conditionsHash: hashConditions(accessConditions) },
    accessConditions,
  };
}

describe('EncryptedManifest', () => {
  it('accepts a manifest built from an encryption summary', async () => {
    const m = await manifest();

    expect(EncryptedManifest.parse(m)).toEqual(m);
  });

  it('groups chunks into parts of at least the minimum part size, with running offsets', async () => {
    const s = await summaryOf(1000, 100);

    const chunks = layoutChunks(s.chunks, 300);

    expect(chunks.map((c) => c.partNumber)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4]);
    expect(chunks.map((c) => c.offset)).toEqual([0, 116, 232, 348, 464, 580, 696, 812, 928, 1044]);
  });

  it.each([
    ['a skipped chunk index', (m: Manifest) => ({ ...m, chunks: m.chunks.map((c, i) => (i === 2 ? { ...c, index: 7 } : c)) })],
    ['a wrong plaintext total', (m: Manifest) => ({ ...m, totalPlaintextSize: m.totalPlaintextSize + 1 })],
    ['a short chunk before the end', (m: Manifest) => ({ ...m, chunks: m.chunks.map((c, i) => (i === 0 ? { ...c, ciphertextSize: 50 } : c)) })],
    ['a text folder without files', (m: Manifest) => ({ ...m, dataFormat: 'text-folder' as const })],
    ['an unknown data format', (m: Manifest) => ({ ...m, dataFormat: 'xlsx' })],
    ['an unknown key backend', (m: Manifest) => ({ ...m, wrappedKey: { ...m.wrappedKey, backend: 'vault' } })],
  ])('rejects %s', async (_label, mutate) => {
    const m = mutate(await manifest());

    expect(EncryptedManifest.safeParse(m).success).toBe(false);
  });

  it('accepts a text folder whose files cover the plaintext exactly', async () => {
    const m = await manifest();

    const r = EncryptedManifest.safeParse({ ...m, dataFormat: 'text-folder', files: [{ path: 'a.txt', plaintextOffset: 0, size: 400 }, { path: 'sub/b.txt', plaintextOffset: 400, size: 600 }] });

    expect(r.success).toBe(true);
  });
});
