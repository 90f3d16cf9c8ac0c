import { httpHandler } from '../../shared/http/handler.js';
import { KeyReleaseInput } from '../../shared/schemas/keyRelease.js';
import { releaseKey } from '../../shared/use-cases/releaseKey.js';
import { getRuntime } from '../_lib/runtime.js';
import { DatasetIdParams } from '../datasets/params.js';

/**
 * `POST /v1/datasets/{id}/keys`: the key gate. Authenticated by the EIP-712 key-request proof in the body
 * (signed by the requester, single-use nonce, ±5 min), not by request headers: workers call it from enclaves.
 */
export const handler = httpHandler(
  { route: { name: 'releaseKey', auth: 'public' }, params: DatasetIdParams, body: KeyReleaseInput, runtime: getRuntime },
  async (req) => {
    const rt = await getRuntime();
    const result = await releaseKey(
      { datasets: rt.listings.datasets, content: rt.listings.content, gate: rt.gate, blobs: rt.blobs, downloadUrlTtlSeconds: 3600 },
      { datasetId: req.params.id, input: req.body },
    );
    rt.logger.info('data key released', { datasetId: req.params.id, version: result.manifest.version, grant: req.body.grant, requester: req.body.requester.address });
    return { status: 200, body: result };
  },
);
