import { httpHandler } from '../../shared/http/handler.js';
import { getUpload } from '../../shared/use-cases/uploads.js';
import { getRuntime } from '../_lib/runtime.js';
import { UploadParams } from './params.js';

/** `GET /v1/datasets/{id}/uploads/{uploadId}` (signed, owner): parts S3 has, fresh URLs for the rest. */
export const handler = httpHandler({ route: { name: 'getUpload', auth: 'signed' }, params: UploadParams, runtime: getRuntime }, async (req) => {
  const rt = await getRuntime();
  return { status: 200, body: await getUpload(rt.uploads, { caller: req.caller?.address as string, datasetId: req.params.id, uploadId: req.params.uploadId }) };
});
