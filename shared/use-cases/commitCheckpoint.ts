import { ProvenaError, type ConflictError, type DependencyError, type ForbiddenError } from '../errors.js';
import type { CheckpointCommitInput, JobCheckpoint } from '../schemas/job.js';
import { artifactPrefix } from './createArtifactUpload.js';
import { checkLease, requireJob, updateJob, type JobDeps } from './jobDeps.js';

export interface CommitCheckpointParameters {
  caller: string;
  jobId: string;
  input: CheckpointCommitInput;
}
export type CommitCheckpointReturnType = JobCheckpoint;
/** The lease codes, `JOB_ARTIFACT_KEY_INVALID`, `JOB_ARTIFACT_MISSING`, `JOB_ARTIFACT_SIZE_MISMATCH`, `JOB_REPORT_MISMATCH`. */
export type CommitCheckpointErrorType = ConflictError | ForbiddenError | DependencyError | ProvenaError;

/** Most checkpoints kept per job record (older ones stay in the bucket; resuming needs only the last). */
const MAX_CHECKPOINTS = 50;

/**
 * Commits an uploaded checkpoint: the object must be one this lease was given (its prefix) and exist with the
 * declared size (HeadObject); its samples name only the job's datasets. From then on, usage reports may cover its
 * samples, and a worker that resumes gets it. The job becomes `checkpointed` (a cancelled job stays cancelled).
 */
export async function commitCheckpoint(deps: JobDeps, params: CommitCheckpointParameters): Promise<CommitCheckpointReturnType> {
  const { input } = params;
  checkLease(await requireJob(deps, params.jobId), params.caller, input.fencingToken, deps.now());
  if (!input.objectKey.startsWith(artifactPrefix(params.jobId, 'checkpoint', input.fencingToken)) || input.objectKey.includes('..')) {
    throw new ProvenaError('JOB_ARTIFACT_KEY_INVALID', `${input.objectKey} is not a checkpoint upload of this lease`);
  }
  const head = await deps.blobs.head(input.objectKey);
  if (!head) throw new ProvenaError('JOB_ARTIFACT_MISSING', `No object ${input.objectKey}: upload it first`);
  if (head.size !== input.bytes) throw new ProvenaError('JOB_ARTIFACT_SIZE_MISMATCH', `${input.objectKey} holds ${head.size} bytes, not ${input.bytes}`);
  let checkpoint: JobCheckpoint | undefined;
  await updateJob(deps, params.jobId, (current) => {
    const now = deps.now();
    checkLease(current, params.caller, input.fencingToken, now);
    const unknown = Object.keys(input.samples).find((id) => !current.datasets.some((d) => d.datasetId === id));
    if (unknown) throw new ProvenaError('JOB_REPORT_MISMATCH', `Dataset ${unknown} is not one of job ${params.jobId}'s`);
    checkpoint = { objectKey: input.objectKey, sha256: input.sha256, bytes: input.bytes, position: input.position, samples: input.samples, committedAt: now.toISOString(), fencingToken: input.fencingToken };
    return { ...current, status: current.status === 'cancelled' ? current.status : ('checkpointed' as const), checkpoints: [...current.checkpoints, checkpoint].slice(-MAX_CHECKPOINTS) };
  });
  return checkpoint as JobCheckpoint;
}
