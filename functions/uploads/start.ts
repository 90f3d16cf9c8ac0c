import { routeHandler } from '../../shared/http/handler.js';
import { uploadRoutes as routes } from '../../shared/http/routes/uploads.js';
import { startUpload } from '../../shared/use-cases/uploads.js';
import { uploadsRuntime } from '../_lib/keys.js';

/** `POST /v1/datasets/{id}/uploads` (signed, owner): a multipart upload session with presigned part URLs. */
export const handler = routeHandler(routes.startUpload, uploadsRuntime, async (req, rt) => {
  const session = await startUpload(rt.uploads, { caller: req.caller.address, datasetId: req.params.id, input: req.body });
  req.log.info('upload started', { datasetId: session.datasetId, uploadId: session.uploadId, dataVersion: session.dataVersion, parts: session.parts.length, bytes: session.totalCiphertextSize });
  return { body: session };
});
