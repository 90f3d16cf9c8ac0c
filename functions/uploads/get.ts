import { routeHandler } from '../../shared/http/handler.js';
import { uploadRoutes as routes } from '../../shared/http/routes/uploads.js';
import { getUpload } from '../../shared/use-cases/uploads.js';
import { uploadsRuntime } from '../_lib/keys.js';

/** `GET /v1/datasets/{id}/uploads/{uploadId}` (signed, owner): parts S3 has, fresh URLs for the rest. */
export const handler = routeHandler(routes.getUpload, uploadsRuntime, async (req, rt) => ({
  body: await getUpload(rt.uploads, { caller: req.caller.address, datasetId: req.params.id, uploadId: req.params.uploadId }),
}));
