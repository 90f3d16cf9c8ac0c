/**
 * The job routes' composition root: the jobs table, the job queue (SQS when PROVENA_JOB_QUEUE_URL is set, else
 * the process's in-process queue, which the embedded stack's single API process shares), the chain's job views
 * and the platform relayer for usage reports.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Provider } from 'ethers';
import { DynamoJobRepo } from '../../shared/adapters/aws/DynamoJobRepo.js';
import { DynamoPrivacyLedger } from '../../shared/adapters/aws/DynamoPrivacyLedger.js';
import { SqsJobQueue } from '../../shared/adapters/aws/SqsJobQueue.js';
import { EvmJobChain, type JobChainContracts } from '../../shared/adapters/chain/EvmJobChain.js';
import { InProcessJobQueue } from '../../shared/adapters/local/InProcessJobQueue.js';
import type { ApiConfig } from '../../shared/config.js';
import type { BlobStore } from '../../shared/ports/BlobStore.js';
import type { DatasetRepo } from '../../shared/ports/DatasetRepo.js';
import type { JobQueue } from '../../shared/ports/JobQueue.js';
import type { Relayer } from '../../shared/ports/Relayer.js';
import type { JobDeps } from '../../shared/use-cases/jobDeps.js';
import { contract, getBase, lazy, withBase } from './base.js';
import { getBlobs } from './blobs.js';
import { getContent, getDatasets } from './listings.js';
import { getRelayer } from './relaying.js';

/** What the job deps are built from (the runtime's shared clients). */
export interface JobSources {
  dynamo: DynamoDBClient;
  provider: Provider;
  relayer: Relayer | undefined;
  datasets: DatasetRepo;
  content: JobDeps['content'];
  blobs: BlobStore;
}

/** Builds the job deps; the repo and queue are returned too, for `/v1/health`. */
export function createJobDeps(config: ApiConfig, sources: JobSources, contracts: JobChainContracts): { deps: JobDeps; repo: DynamoJobRepo; queue: JobQueue } {
  const repo = new DynamoJobRepo(sources.dynamo, config.PROVENA_TABLE_JOBS);
  const queue: JobQueue = config.PROVENA_JOB_QUEUE_URL ? new SqsJobQueue({ queueUrl: config.PROVENA_JOB_QUEUE_URL, region: config.AWS_REGION }) : InProcessJobQueue.shared();
  const deps: JobDeps = {
    jobs: repo,
    queue,
    chain: new EvmJobChain(sources.provider, contracts, sources.relayer),
    datasets: sources.datasets,
    privacy: new DynamoPrivacyLedger(sources.dynamo, config.PROVENA_TABLE_DATASETS),
    content: sources.content,
    blobs: sources.blobs,
    operators: config.PROVENA_WORKER_OPERATORS,
    leaseSeconds: config.PROVENA_JOB_LEASE_SECONDS,
    urlTtlSeconds: config.PROVENA_DOWNLOAD_URL_TTL_SECONDS,
    cursorKey: config.PROVENA_CURSOR_SECRET,
    now: () => new Date(),
  };
  return { deps, repo, queue };
}

/** What every job route's deps are built from, but the content store. */
const getJobSources = /* @__PURE__ */ lazy(async () => {
  const { config, chain, dynamo } = await getBase();
  const contracts = { licenseManager: contract(config, 'LicenseManager'), datasetRegistry: contract(config, 'DatasetRegistry'), attestationRegistry: contract(config, 'AttestationRegistry') };
  return { config, contracts, sources: { dynamo, provider: chain.provider, relayer: await getRelayer(), datasets: await getDatasets(), blobs: await getBlobs() } };
});

/** The job deps, repo and queue, built once per process, with the content store (submit reads manifests, result stores receipts). */
export const getJobs = /* @__PURE__ */ lazy(async () => {
  const { config, contracts, sources } = await getJobSources();
  return createJobDeps(config, { ...sources, content: await getContent() }, contracts);
});

/**
 * The content store of the job routes that never touch IPFS (all but submit and result): a call is a wiring error
 * (500). Without it, their bundles would carry Kubo's RPC client (about 250 KiB) they never call.
 */
const contentNotWired: JobDeps['content'] = {
  getJson: () => Promise.reject(new Error('the content store is not wired into this job route (functions/_lib/jobs.ts: use jobsContentRuntime)')),
  add: () => Promise.reject(new Error('the content store is not wired into this job route (functions/_lib/jobs.ts: use jobsContentRuntime)')),
};

/** The job deps of the routes without IPFS (see {@link contentNotWired}). */
const getJobsWithoutContent = /* @__PURE__ */ lazy(async () => {
  const { config, contracts, sources } = await getJobSources();
  return createJobDeps(config, { ...sources, content: contentNotWired }, contracts);
});

/** `rt.jobs` of the job routes that do not read or write IPFS. */
export const jobsRuntime = /* @__PURE__ */ withBase(async () => ({ jobs: (await getJobsWithoutContent()).deps }));

/** `rt.jobs` of the job routes that read or write IPFS: submit (the listings' manifests) and result (the receipt). */
export const jobsContentRuntime = /* @__PURE__ */ withBase(async () => ({ jobs: (await getJobs()).deps }));
