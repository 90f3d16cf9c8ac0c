import type { ConflictError, DependencyError, ForbiddenError } from '../errors.js';
import type { ArtifactUpload, ArtifactUploadInput } from '../schemas/job.js';
import { checkLease, requireJob, type JobDeps } from './jobDeps.js';

export interface CreateArtifactUploadParameters {
  caller: string;
  jobId: string;
  input: ArtifactUploadInput;
}
export type CreateArtifactUploadReturnType = ArtifactUpload;
/** The lease codes. */
export type CreateArtifactUploadErrorType = ConflictError | ForbiddenError | DependencyError;

/** Where an artifact of a lease goes: `jobs/{jobId}/{kind}/{fencingToken}/{sha256}`. */
export function artifactPrefix(jobId: string, kind: 'checkpoint' | 'model', fencingToken: number): string {
  return `jobs/${jobId}/${kind}/${fencingToken}/`;
}

/**
 * A presigned PUT for an encrypted checkpoint or model under the job's prefix, named by the lease's fencing token
 * and the ciphertext's SHA-256 (so a stale worker can never overwrite a current worker's object). Writes nothing.
 */
export async function createArtifactUpload(deps: JobDeps, params: CreateArtifactUploadParameters): Promise<CreateArtifactUploadReturnType> {
  const { input } = params;
  const record = await requireJob(deps, params.jobId);
  const now = deps.now();
  checkLease(record, params.caller, input.fencingToken, now);
  const objectKey = `${artifactPrefix(params.jobId, input.kind, input.fencingToken)}${input.sha256}`;
  const uploadUrl = await deps.blobs.presignPut(objectKey, deps.urlTtlSeconds);
  return { objectKey, uploadUrl, expiresAt: new Date(now.getTime() + deps.urlTtlSeconds * 1000).toISOString() };
}
