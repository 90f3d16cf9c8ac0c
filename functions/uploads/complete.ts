import { httpHandler } from '../../shared/http/handler.js';
import { UploadCompleteInput } from '../../shared/schemas/upload.js';
import { completeUpload } from '../../shared/use-cases/uploads.js';
import { getRuntime } from '../_lib/runtime.js';
import { UploadParams } from './params.js';

/** `POST /v1/datasets/{id}/uploads/{uploadId}/complete` (signed, owner): verify, wrap the key, publish. */
export const handler = httpHandler(
  { route: { name: 'completeUpload', auth: 'signed' }, params: UploadParams, body: UploadCompleteInput, runtime: getRuntime },
  async (req) => {
    const rt = await getRuntime();
    const dataset = await completeUpload(rt.uploads, { caller: req.caller?.address as string, datasetId: req.params.id, uploadId: req.params.uploadId, input: req.body });
    rt.logger.info('upload completed', { datasetId: dataset.id, dataVersion: dataset.data?.version, dataManifestCid: dataset.data?.manifestCid });
    return { status: 200, body: dataset };
  },
);
