import { ConflictError, DependencyError, ForbiddenError, NotFoundError, ProvenaError, hasCode } from '../errors.js';
import type { JobRecord, JobRecordDataset } from '../ports/JobRepo.js';
import { DatasetManifest, type Dataset } from '../schemas/dataset.js';
import type { Job, JobSubmitInput } from '../schemas/job.js';
import { hashOf, readJobView, type JobDeps } from './jobDeps.js';
import { releasePrivacy, reservePrivacy } from './privacyBudget.js';

export interface SubmitJobParameters {
  /** The signed request's caller: must own the license NFT. */
  caller: string;
  input: JobSubmitInput;
}
export interface SubmitJobReturnType {
  job: Job;
  /** False when the same job and body were submitted before (the first result is answered again). */
  created: boolean;
}
/** `JOB_UNKNOWN_ON_CHAIN`, `JOB_ALREADY_FINISHED`, `JOB_NOT_LICENSE_HOLDER`, `LICENSE_EXPIRED`, `JOB_NOT_ACTIVE`, `JOB_DATASET_NOT_LISTED`, `JOB_SUBMIT_CONFLICT`, `PRIVACY_*`, `CHAIN_UNAVAILABLE`. */
export type SubmitJobErrorType = NotFoundError | ForbiddenError | ConflictError | DependencyError | ProvenaError;

/** Registry dataset → the listing here whose id its registered manifest names (and whose registry id it is). */
async function listingOf(deps: JobDeps, chainDatasetId: string): Promise<Dataset> {
  const refuse = (why: string, cause?: unknown) => new ConflictError('JOB_DATASET_NOT_LISTED', `Registry dataset ${chainDatasetId} has no listing here (${why})`, cause === undefined ? {} : { cause });
  let manifest: DatasetManifest;
  try {
    manifest = DatasetManifest.parse(await deps.content.getJson(await deps.chain.manifestCidOf(chainDatasetId)));
  } catch (err) {
    if (hasCode(err, 'CONTENT_NOT_FOUND', 'VALIDATION_FAILED') || (err instanceof Error && err.name === 'ZodError')) throw refuse('its manifest is not in this content store', err);
    throw err;
  }
  const listing = await deps.datasets.get(manifest.datasetId);
  if (!listing || listing.dataset.chainDatasetId !== chainDatasetId) throw refuse(`listing ${manifest.datasetId} is not registered as it`);
  return listing.dataset;
}

/** The first submission's answer to a repeat: same caller and body → the job; another body → a conflict. */
async function repeat(deps: JobDeps, existing: JobRecord, caller: string, inputHash: string): Promise<SubmitJobReturnType> {
  if (existing.holder !== caller) throw new ForbiddenError('JOB_NOT_LICENSE_HOLDER', `Job ${existing.jobId} was submitted by its license holder, not ${caller}`);
  if (existing.inputHash !== inputHash) throw new ConflictError('JOB_SUBMIT_CONFLICT', `Job ${existing.jobId} was submitted with another body (recipe, model key or epsilon)`);
  return { job: await readJobView(deps, existing), created: false };
}

/**
 * Accepts a job the lab opened on chain and makes it claimable. The chain is the truth: the job must exist, not be
 * finalized or ended, its license active and owned by the caller, and each of its datasets a listing here. The
 * record is written first (conditional put: one record per job id), then the queue message is sent; a crash in
 * between leaves a `queued` record without a message, which {@link requeueStaleJobs} repairs.
 *
 * Order: repeat (`JOB_SUBMIT_CONFLICT`) → `JOB_UNKNOWN_ON_CHAIN` → `JOB_ALREADY_FINISHED` → `JOB_NOT_LICENSE_HOLDER`
 * → `LICENSE_EXPIRED` → `JOB_NOT_ACTIVE` → `JOB_DATASET_NOT_LISTED` → `PRIVACY_DP_REQUIRED` /
 * `PRIVACY_EPSILON_CEILING_REQUIRED` (a listing has a privacy policy) → `PRIVACY_BUDGET_EXCEEDED` (the job's epsilon
 * ceiling is reserved on each such listing's budget by a conditional write: concurrent submits cannot overspend).
 */
export async function submitJob(deps: JobDeps, params: SubmitJobParameters): Promise<SubmitJobReturnType> {
  const { caller, input } = params;
  const inputHash = hashOf(input);
  const existing = await deps.jobs.get(input.jobId);
  if (existing) return repeat(deps, existing, caller, inputHash);

  const chainJob = await deps.chain.job(input.jobId);
  if (!chainJob) throw new NotFoundError('JOB_UNKNOWN_ON_CHAIN', `The chain has no job ${input.jobId}: open it with LicenseManager.openJob first`);
  if (chainJob.finalized) throw new ConflictError('JOB_ALREADY_FINISHED', `Job ${input.jobId} is already finalized on chain`);
  const license = await deps.chain.license(chainJob.licenseId);
  if (!license || license.holder !== caller) throw new ForbiddenError('JOB_NOT_LICENSE_HOLDER', `${caller} does not hold license ${chainJob.licenseId} of job ${input.jobId}`);
  if (!license.active) throw new ForbiddenError('LICENSE_EXPIRED', `License ${chainJob.licenseId} expired at ${new Date(license.expiry * 1000).toISOString()}`);
  if (!chainJob.active) throw new ForbiddenError('JOB_NOT_ACTIVE', `Job ${input.jobId} is not open (ended, refunded or out of budget)`);

  const onChain = await deps.chain.jobDatasets(input.jobId);
  // A license always covers at least one dataset (the contract refuses an empty purchase), so an empty list is a
  // read the chain answered from before the job existed: a record without datasets would reach a worker with no
  // data key to derive its checkpoint key from (DATA_KEY_MISMATCH). Refused, nothing written; the lab retries.
  if (onChain.length === 0) throw new DependencyError('CHAIN_UNAVAILABLE', `The chain listed no datasets for job ${input.jobId} (a read behind its opening block?): submit it again`);
  const listed: { dataset: JobRecordDataset; listing: Dataset }[] = [];
  for (const d of onChain) {
    const listing = await listingOf(deps, d.chainDatasetId);
    const modes = listing.license.workerModes;
    listed.push({ listing, dataset: { datasetId: listing.id, chainDatasetId: d.chainDatasetId, pricePerSample: d.pricePerSample, ...(modes ? { workerModes: modes } : {}) } });
  }
  // Reserved before the record exists: a queued record always holds its reservation (a crash in between leaks
  // budget unused, never overspends it).
  const datasets = await reservePrivacy(deps, input, listed);

  const now = deps.now().toISOString();
  const record: JobRecord = {
    jobId: input.jobId,
    licenseId: chainJob.licenseId,
    holder: caller,
    status: 'queued',
    input,
    inputHash,
    recipeHash: hashOf(input.recipe),
    datasets,
    submittedAt: now,
    updatedAt: now,
    version: 1,
    fencingToken: 0,
    attempts: 0,
    checkpoints: [],
    reports: [],
    metrics: [],
  };
  if (!(await deps.jobs.create(record))) {
    await releasePrivacy(deps, datasets);
    const raced = await deps.jobs.get(input.jobId);
    if (!raced) throw new ProvenaError('INTERNAL', `Job ${input.jobId} exists and does not`);
    return repeat(deps, raced, caller, inputHash);
  }
  await deps.queue.send({ jobId: input.jobId });
  return { job: await readJobView(deps, record), created: true };
}
