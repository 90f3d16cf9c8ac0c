/**
 * An owner's uploads in progress (issue 14, the console's Owner page): open sessions not yet expired, newest first,
 * each with how many of its planned parts S3 already holds at their planned size.
 */
import { openCursor, sealCursor } from '../crypto/pageCursor.js';
import type { DependencyError, ProvenaError } from '../errors.js';
import type { StoredUpload } from '../ports/UploadRepo.js';
import { planUpload, type UploadListQuery, type UploadSummary, type UploadSummaryPage } from '../schemas/upload.js';
import type { UploadDeps } from './uploads.js';

export type ListUploadsParameters = UploadListQuery;
export type ListUploadsReturnType = UploadSummaryPage;
/** `CURSOR_INVALID` (a cursor altered or issued for another owner), `DEPENDENCY_FAILED`. */
export type ListUploadsErrorType = ProvenaError | DependencyError;

async function summary(deps: Pick<UploadDeps, 'blobs'>, u: StoredUpload): Promise<UploadSummary> {
  const plan = planUpload(u.plaintextSize, u.chunkSize);
  const held = await deps.blobs.listParts(u.objectKey, u.s3UploadId);
  const sizes = new Map(held.map((p) => [p.partNumber, p.size]));
  return {
    uploadId: u.uploadId,
    datasetId: u.datasetId,
    dataVersion: u.dataVersion,
    format: u.format,
    plaintextSize: u.plaintextSize,
    partsDone: plan.parts.filter((p) => sizes.get(p.partNumber) === p.size).length,
    partsTotal: plan.parts.length,
    createdAt: u.createdAt,
    expiresAt: u.expiresAt,
  };
}

/**
 * Lists an owner's open upload sessions. Public, like a holder's jobs: a summary carries no URL and nothing the
 * listing will not publish on completion (sizes, format, version). The cursor is sealed (HMAC) to the owner, so a
 * cursor of another owner's listing is refused with `CURSOR_INVALID`.
 *
 * @example
 * ```ts
 * const page = await listUploads(rt.uploads, { owner, limit: 20 });
 * ```
 */
export async function listUploads(deps: Pick<UploadDeps, 'uploads' | 'blobs' | 'now' | 'cursorKey'>, params: ListUploadsParameters): Promise<ListUploadsReturnType> {
  const scope = JSON.stringify(['uploads', params.owner]);
  const page = await deps.uploads.listOpenByOwner(params.owner, {
    limit: params.limit,
    now: deps.now(),
    ...(params.cursor === undefined ? {} : { cursor: openCursor(deps.cursorKey, scope, params.cursor) }),
  });
  const items = await Promise.all(page.items.map((u) => summary(deps, u)));
  return page.nextCursor === undefined ? { items } : { items, nextCursor: sealCursor(deps.cursorKey, scope, page.nextCursor) };
}
