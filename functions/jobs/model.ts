import { routeHandler } from '../../shared/http/handler.js';
import { jobRoutes as routes } from '../../shared/http/routes/jobs.js';
import { getJobModel } from '../../shared/use-cases/getJobModel.js';
import { jobsRuntime } from '../_lib/jobs.js';

/** `GET /v1/jobs/{jobId}/model`: the sealed model of a finished job (presigned GET, sealed key, receipt CID). */
export const handler = routeHandler(routes.getJobModel, jobsRuntime, async (req, rt) => ({ body: await getJobModel(rt.jobs, { jobId: req.params.jobId }) }));
