import { routeHandler } from '../../shared/http/handler.js';
import { datasetRoutes as routes } from '../../shared/http/routes/datasets.js';
import { createListing } from '../../shared/use-cases/createListing.js';
import { listingsRuntime } from '../_lib/listings.js';

/** `POST /v1/datasets` (signed): lists a dataset. A retry with the same `Idempotency-Key` answers the first result (version 1). */
export const handler = routeHandler(routes.createDataset, listingsRuntime, async (req, rt) => {
  const key = req.headers['idempotency-key'];
  const { dataset, replayed } = await createListing(rt.listings, { owner: req.caller.address, input: req.body, ...(key ? { idempotencyKey: key } : {}) });
  req.log.info(replayed ? 'dataset create replayed' : 'dataset listed', { datasetId: dataset.id, manifestCid: dataset.manifestCid });
  return {
    status: replayed ? 200 : 201,
    body: dataset,
    headers: { location: `/v1/datasets/${dataset.id}`, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) },
  };
});
