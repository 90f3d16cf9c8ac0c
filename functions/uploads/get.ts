import { routeHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/http/routes.js';
import { getUpload } from '../../shared/use-cases/uploads.js';
import { getRuntime } from '../_lib/runtime.js';

/** `GET /v1/datasets/{id}/uploads/{uploadId}` (signed, owner): parts S3 has, fresh URLs for the rest. */
export const handler = routeHandler(routes.getUpload, getRuntime, async (req, rt) => ({
  body: await getUpload(rt.uploads, { caller: req.caller.address, datasetId: req.params.id, uploadId: req.params.uploadId }),
}));
