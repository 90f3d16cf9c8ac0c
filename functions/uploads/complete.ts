import { routeHandler } from '../../shared/http/handler.js';
import { uploadRoutes as routes } from '../../shared/http/routes/uploads.js';
import { completeUpload } from '../../shared/use-cases/uploads.js';
import { uploadsRuntime } from '../_lib/keys.js';

/** `POST /v1/datasets/{id}/uploads/{uploadId}/complete` (signed, owner): verify, wrap the key, publish. */
export const handler = routeHandler(routes.completeUpload, uploadsRuntime, async (req, rt) => {
  const dataset = await completeUpload(rt.uploads, { caller: req.caller.address, datasetId: req.params.id, uploadId: req.params.uploadId, input: req.body });
  req.log.info('upload completed', { datasetId: dataset.id, dataVersion: dataset.data?.version, dataManifestCid: dataset.data?.manifestCid });
  return { body: dataset };
});
