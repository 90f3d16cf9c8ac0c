import { routeHandler } from '../../shared/http/handler.js';
import { jobRoutes as routes } from '../../shared/http/routes/jobs.js';
import { listJobs } from '../../shared/use-cases/listJobs.js';
import { jobsRuntime } from '../_lib/jobs.js';

/** `GET /v1/jobs?holder=`: a holder's jobs, newest first, figures from the chain now. */
export const handler = routeHandler(routes.listJobs, jobsRuntime, async (req, rt) => ({ body: await listJobs(rt.jobs, req.query) }));
