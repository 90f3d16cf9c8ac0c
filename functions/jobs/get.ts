import { routeHandler } from '../../shared/http/handler.js';
import { jobRoutes as routes } from '../../shared/http/routes/jobs.js';
import { getJob } from '../../shared/use-cases/getJob.js';
import { jobsRuntime } from '../_lib/jobs.js';

/** `GET /v1/jobs/{jobId}`: the job record merged with the chain's views now. */
export const handler = routeHandler(routes.getJob, jobsRuntime, async (req, rt) => ({ body: await getJob(rt.jobs, { jobId: req.params.jobId }) }));
