import { httpHandler } from '../../shared/http/handler.js';
import { UploadStartInput } from '../../shared/schemas/upload.js';
import { startUpload } from '../../shared/use-cases/uploads.js';
import { getRuntime } from '../_lib/runtime.js';
import { DatasetIdParams } from '../datasets/params.js';

/** `POST /v1/datasets/{id}/uploads` (signed, owner): a multipart upload session with presigned part URLs. */
export const handler = httpHandler(
  { route: { name: 'startUpload', auth: 'signed' }, params: DatasetIdParams, body: UploadStartInput, runtime: getRuntime },
  async (req) => {
    const rt = await getRuntime();
    const session = await startUpload(rt.uploads, { caller: req.caller?.address as string, datasetId: req.params.id, input: req.body });
    rt.logger.info('upload started', { datasetId: session.datasetId, uploadId: session.uploadId, dataVersion: session.dataVersion, parts: session.parts.length, bytes: session.totalCiphertextSize });
    return { status: 201, body: session };
  },
);
