import { httpHandler } from '../../shared/http/handler.js';
import { delistListing } from '../../shared/use-cases/delistListing.js';
import { getRuntime } from '../_lib/runtime.js';
import { DatasetIdParams } from './params.js';

/** `DELETE /v1/datasets/{id}` (signed, owner only): delists; the listing stays readable. */
export const handler = httpHandler({ route: { name: 'delistDataset', auth: 'signed' }, params: DatasetIdParams, runtime: getRuntime }, async (req) => {
  const rt = await getRuntime();
  const dataset = await delistListing(rt.listings, { caller: req.caller?.address as string, id: req.params.id });
  rt.logger.info('dataset delisted', { datasetId: dataset.id, version: dataset.version });
  return { status: 200, body: dataset };
});
