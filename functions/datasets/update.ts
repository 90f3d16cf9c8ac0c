import { httpHandler } from '../../shared/http/handler.js';
import { DatasetPatch } from '../../shared/schemas/dataset.js';
import { updateListing } from '../../shared/use-cases/updateListing.js';
import { getRuntime } from '../_lib/runtime.js';
import { DatasetIdParams } from './params.js';

/** `PATCH /v1/datasets/{id}` (signed, owner only): a new version of the listing. */
export const handler = httpHandler(
  { route: { name: 'updateDataset', auth: 'signed' }, params: DatasetIdParams, body: DatasetPatch, runtime: getRuntime },
  async (req) => {
    const rt = await getRuntime();
    const dataset = await updateListing(rt.listings, { caller: req.caller?.address as string, id: req.params.id, patch: req.body });
    rt.logger.info('dataset updated', { datasetId: dataset.id, version: dataset.version, manifestCid: dataset.manifestCid });
    return { status: 200, body: dataset };
  },
);
