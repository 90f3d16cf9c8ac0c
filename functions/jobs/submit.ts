import { routeHandler } from '../../shared/http/handler.js';
import { jobRoutes as routes } from '../../shared/http/routes/jobs.js';
import { submitJob } from '../../shared/use-cases/submitJob.js';
import { jobsContentRuntime } from '../_lib/jobs.js';

/** `POST /v1/jobs` (signed by the license holder): accepts a job the chain shows and queues it (201; a repeat 200). */
export const handler = routeHandler(routes.submitJob, jobsContentRuntime, async (req, rt) => {
  const { job, created } = await submitJob(rt.jobs, { caller: req.caller.address, input: req.body });
  if (created) req.log.info('job submitted', { jobId: job.id, licenseId: job.licenseId, holder: job.holder });
  return { status: created ? 201 : 200, body: job };
});
