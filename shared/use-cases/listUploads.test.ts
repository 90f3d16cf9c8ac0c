/**
 * An owner's uploads in progress (issue 14): parts done counts only parts S3 holds at their planned size, and the
 * page cursor is sealed to the owner (another owner's cursor, or an altered one, is refused before storage).
 */
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { StoredUpload, UploadRepo } from '../ports/UploadRepo.js';
import type { BlobStore } from '../ports/BlobStore.js';
import { planUpload } from '../schemas/upload.js';
import { listUploads } from './listUploads.js';
import { codeOf } from '../../test/support/errors.js';

const OWNER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const OTHER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const MiB = 1024 * 1024;

const upload = (id: string): StoredUpload => ({
  uploadId: id,
  datasetId: 'ds_1',
  owner: OWNER,
  dataVersion: 2,
  status: 'open',
  format: 'csv',
  plaintextSize: 20 * MiB,
  chunkSize: 4 * MiB,
  objectKey: `datasets/ds_1/v2/${id}.enc`,
  s3UploadId: `s3-${id}`,
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-08T00:00:00.000Z',
});

function deps(parts: { partNumber: number; size: number }[]) {
  const seen: { owner: string; cursor?: string | undefined }[] = [];
  const uploads = {
    listOpenByOwner: async (owner: string, page: { cursor?: string }) => {
      seen.push({ owner, cursor: page.cursor });
      return { items: [upload('up_a')], nextCursor: 'adapter-cursor' };
    },
  } as unknown as UploadRepo;
  const blobs = { listParts: async () => parts.map((p) => ({ ...p, etag: `"${p.partNumber}"` })) } as unknown as BlobStore;
  return { deps: { uploads, blobs, now: () => new Date('2026-01-02T00:00:00Z'), cursorKey: randomBytes(32) }, seen };
}

describe('listUploads', () => {
  it('counts as done only the parts S3 holds at their planned size, of the planned total', async () => {
    const plan = planUpload(20 * MiB, 4 * MiB);
    const { deps: d } = deps([
      { partNumber: 1, size: plan.parts[0]?.size ?? 0 },
      { partNumber: 2, size: (plan.parts[1]?.size ?? 0) - 1 },
    ]);

    const page = await listUploads(d, { owner: OWNER, limit: 20 });

    expect(page.items).toEqual([expect.objectContaining({ uploadId: 'up_a', dataVersion: 2, partsDone: 1, partsTotal: plan.parts.length })]);
    expect(page.items[0]).not.toHaveProperty('objectKey');
    expect(page.items[0]).not.toHaveProperty('s3UploadId');
  });

  it("hands back a sealed cursor that opens for the same owner, and refuses it for another owner or altered, before storage", async () => {
    const { deps: d, seen } = deps([]);
    const { nextCursor } = await listUploads(d, { owner: OWNER, limit: 1 });
    expect(nextCursor).toMatch(/^c1\./);

    await listUploads(d, { owner: OWNER, limit: 1, cursor: nextCursor as string });
    expect(seen[1]).toEqual({ owner: OWNER, cursor: 'adapter-cursor' });

    expect(await codeOf(listUploads(d, { owner: OTHER, limit: 1, cursor: nextCursor as string }))).toBe('CURSOR_INVALID');
    expect(await codeOf(listUploads(d, { owner: OWNER, limit: 1, cursor: `${nextCursor as string}x` }))).toBe('CURSOR_INVALID');
    expect(seen).toHaveLength(2);
  });
});
