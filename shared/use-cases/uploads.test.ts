/**
 * Issue 8 item 1: one signed upload start with `plaintextSize` near 2^40 and 64 KiB chunks made the API build
 * ~16.7 M plan entries and die. The start is refused by arithmetic, with a clean code, and nothing is written.
 */
import { describe, expect, it } from '@jest/globals';
import type { UploadDeps } from './uploads.js';
import { startUpload } from './uploads.js';
import { codeOf } from '../../test/support/errors.js';

const OWNER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';

/** Deps whose every write is recorded: the listing exists, is the caller's and is registered. */
function recordingDeps(): { deps: UploadDeps; writes: string[] } {
  const writes: string[] = [];
  const record = (name: string) => async () => {
    writes.push(name);
    throw new Error(`${name} must not be called`);
  };
  const listing = { id: 'ds_1', owner: OWNER, status: 'active', version: 1, chainDatasetId: '1' };
  const deps = {
    datasets: { get: async () => ({ dataset: listing }), create: record('datasets.create'), replace: record('datasets.replace') },
    content: { addJson: record('content.addJson') },
    uploads: { create: record('uploads.create'), markCompleted: record('uploads.markCompleted') },
    blobs: { createMultipartUpload: record('blobs.createMultipartUpload'), presignUploadPart: record('blobs.presignUploadPart'), put: record('blobs.put') },
    now: () => new Date('2026-01-01T00:00:00Z'),
    urlTtlSeconds: 3600,
  };
  // Only the members startUpload can reach are present; any other call fails the test with a TypeError.
  return { deps: deps as unknown as UploadDeps, writes };
}

describe('startUpload', () => {
  it('refuses 2^40 - 1 bytes in 64 KiB chunks with VALIDATION_FAILED on chunkSize and writes nothing', async () => {
    const { deps, writes } = recordingDeps();
    const before = process.memoryUsage().heapUsed;

    const started = startUpload(deps, { caller: OWNER, datasetId: 'ds_1', input: { format: 'csv', plaintextSize: 2 ** 40 - 1, chunkSize: 65_536 } });

    expect(await codeOf(started)).toBe('VALIDATION_FAILED');
    await expect(started).rejects.toMatchObject({ details: [{ path: ['body', 'chunkSize'] }] });
    expect(writes).toEqual([]);
    // The old plan held 16.7 M chunk sizes and laid-out chunks (gigabytes) before it checked the part count.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
  });
});
