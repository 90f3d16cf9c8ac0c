import { routeHandler } from '../../shared/http/handler.js';
import { workerRoutes as routes } from '../../shared/http/routes/worker.js';
import { submitUsageReport } from '../../shared/use-cases/submitUsageReport.js';
import { jobsRuntime } from '../_lib/jobs.js';

/** `POST /v1/jobs/{jobId}/reports`: relays a usage report signed by the attested key, covered by a checkpoint. */
export const handler = routeHandler(routes.submitUsageReport, jobsRuntime, async (req, rt) => {
  const result = await submitUsageReport(rt.jobs, { caller: req.caller.address, jobId: req.params.jobId, input: req.body });
  req.log.info('usage report relayed', { jobId: req.params.jobId, txHash: result.txHash, paid: result.paid });
  return { body: result };
});
