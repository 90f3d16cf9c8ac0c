import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { TAG_LENGTH } from '../crypto/chunkedAead.js';
import { layoutChunks, S3_MAX_PARTS } from './encryptedManifest.js';
import { MAX_UPLOAD_BYTES, UploadCompleteInput, UploadStartInput, planUpload, plannedChunkSize, uploadPlanSize } from './upload.js';

/** The layout the plan must equal: every chunk listed, grouped by layoutChunks (what the manifest records). */
function planFromLayout(plaintextSize: number, chunkSize: number) {
  const chunkCount = Math.max(1, Math.ceil(plaintextSize / chunkSize));
  const sizes = Array.from({ length: chunkCount }, (_, i) => (i < chunkCount - 1 ? chunkSize : plaintextSize - (chunkCount - 1) * chunkSize) + TAG_LENGTH);
  const parts: { partNumber: number; size: number; firstChunk: number; chunkCount: number }[] = [];
  for (const c of layoutChunks(sizes.map((ciphertextSize) => ({ ciphertextSize, sha256: '0'.repeat(64) })))) {
    const last = parts[parts.length - 1];
    if (last && last.partNumber === c.partNumber) {
      last.size += c.ciphertextSize;
      last.chunkCount += 1;
    } else parts.push({ partNumber: c.partNumber, size: c.ciphertextSize, firstChunk: c.index, chunkCount: 1 });
  }
  return { chunkCount, sizes, parts };
}

describe('planUpload', () => {
  it('plans arithmetically exactly what laying out every chunk gives', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 * 1024 * 1024 }), fc.integer({ min: 64 * 1024, max: 8 * 1024 * 1024 }), (size, chunk) => {
        const plan = planUpload(size, chunk);
        const ref = planFromLayout(size, chunk);
        expect(plan.parts).toEqual(ref.parts);
        expect(plan.chunkCount).toBe(ref.chunkCount);
        expect(ref.sizes.every((s, i) => s === plannedChunkSize(plan, i))).toBe(true);
        expect(plan.totalCiphertextSize).toBe(ref.sizes.reduce((a, b) => a + b, 0));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses the crash input of issue 8 (2^40 bytes in 64 KiB chunks) by arithmetic, naming chunkSize', () => {
    expect(uploadPlanSize(MAX_UPLOAD_BYTES, 65_536)).toMatchObject({ chunkCount: 16_777_216, partCount: 209_716 });

    let err: unknown;
    try {
      planUpload(MAX_UPLOAD_BYTES, 65_536);
    } catch (e) {
      err = e;
    }

    expect(err).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: ['body', 'chunkSize'] }] });
  });

  it('plans exactly 10,000 parts at the largest size a chunk size allows, and refuses one byte more', () => {
    fc.assert(
      fc.property(fc.integer({ min: 64 * 1024, max: 64 * 1024 * 1024 }), (chunk) => {
        const { chunksPerPart } = uploadPlanSize(0, chunk);
        const largest = Math.min(MAX_UPLOAD_BYTES, S3_MAX_PARTS * chunksPerPart * chunk);

        expect(planUpload(largest, chunk).parts.length).toBeLessThanOrEqual(S3_MAX_PARTS);
        if (largest < MAX_UPLOAD_BYTES) expect(() => planUpload(largest + 1, chunk)).toThrow(/exceed/);
      }),
      { numRuns: 50 },
    );
  });
});

describe('UploadStartInput', () => {
  it('refuses a start whose plan would exceed 10,000 parts, with the field path, before anything is planned', () => {
    const r = UploadStartInput.safeParse({ format: 'csv', plaintextSize: 2 ** 40 - 1, chunkSize: 65_536 });

    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path)).toEqual([['chunkSize']]);
  });

  it('refuses sizes above 1 TiB and non-integers', () => {
    for (const plaintextSize of [2 ** 40 + 1, 2 ** 53, 1.5, -1, Number.MAX_VALUE]) {
      expect(UploadStartInput.safeParse({ format: 'csv', plaintextSize }).success).toBe(false);
    }
  });
});

describe('request arrays', () => {
  it('stop at the first bad element: 700,000 bad chunk entries and 100,000 empty files give one element of issues', () => {
    const chunks = UploadCompleteInput.safeParse({ chunks: new Array(700_000).fill(0) });
    const files = UploadStartInput.safeParse({ format: 'text-folder', plaintextSize: 1, files: Array.from({ length: 100_000 }, () => ({})) });

    expect(chunks.error?.issues.filter((i) => i.path[0] === 'chunks').map((i) => i.path)).toEqual([['chunks', 0]]);
    expect(files.error?.issues.map((i) => i.path)).toEqual([['files', 0, 'path'], ['files', 0, 'plaintextOffset'], ['files', 0, 'size']]);
  });
});
