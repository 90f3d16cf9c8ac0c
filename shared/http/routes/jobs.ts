/**
 * Training jobs, as labs see them.
 *
 * One area of the route table (shared/http/routes.ts gathers every area into `routes`, which OpenAPI, the SDK,
 * the CDK and the embedded server read). A handler imports its area's module, not the whole table, so its Lambda
 * bundle builds only the schemas of its area.
 */
import { JobIdParams } from '../../schemas/attestation.js';
import { Job, JobListQuery, JobModelDownload, JobPage, JobSubmitInput } from '../../schemas/job.js';
import { defineRoute, type RouteDefinition } from '../route.js';

/** The routes of this area, by name. */
export const jobRoutes = {
  submitJob: defineRoute({
    name: 'submitJob',
    method: 'POST',
    path: '/v1/jobs',
    handler: 'functions/jobs/submit.ts',
    auth: 'signed',
    summary: 'Accept a job the lab opened on chain (signed by the license holder) and queue it for a worker; the same job again answers 200 with the first result',
    body: JobSubmitInput,
    response: Job,
    success: 201,
    // Reads the job and license on chain (RPC), the listings and manifests; writes the job (conditional put) and queues it.
    access: { datasets: 'read', nonces: 'write', chainIndex: 'read', jobs: 'write', jobQueue: 'send' },
  }),
  listJobs: defineRoute({
    name: 'listJobs',
    method: 'GET',
    path: '/v1/jobs',
    handler: 'functions/jobs/list.ts',
    auth: 'public',
    summary: "A holder's jobs, newest first, cursor-paginated",
    query: JobListQuery,
    response: JobPage,
    access: { jobs: 'read', chainIndex: 'read' },
  }),
  getJob: defineRoute({
    name: 'getJob',
    method: 'GET',
    path: '/v1/jobs/{jobId}',
    handler: 'functions/jobs/get.ts',
    auth: 'public',
    summary: 'One job: status, samples and royalties per dataset (chain views), rate, reports, checkpoints, metrics, receipt',
    params: JobIdParams,
    response: Job,
    access: { jobs: 'read', chainIndex: 'read' },
  }),
  getJobModel: defineRoute({
    name: 'getJobModel',
    method: 'GET',
    path: '/v1/jobs/{jobId}/model',
    handler: 'functions/jobs/model.ts',
    // Public: the model is ciphertext sealed to the lab's key; the URL is short-lived.
    auth: 'public',
    summary: "The finished job's encrypted model: a presigned GET, the data key sealed to the lab's model key, and the receipt CID",
    params: JobIdParams,
    response: JobModelDownload,
    access: { jobs: 'read', artifacts: 'read' },
  }),
} as const satisfies { readonly [N in string]: RouteDefinition & { readonly name: N } };
