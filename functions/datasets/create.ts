import { routeHandler, type RouteRequest } from '../../shared/http/handler.js';
import { datasetRoutes as routes } from '../../shared/http/routes/datasets.js';
import { commitListing, prepareListing, type CreateListingParameters, type PreparedListing } from '../../shared/use-cases/createListing.js';
import { listingsRuntime } from '../_lib/listings.js';

function parameters(req: RouteRequest<typeof routes.createDataset>): CreateListingParameters {
  const key = req.headers['idempotency-key'];
  return { owner: req.caller.address, input: req.body, ...(key ? { idempotencyKey: key } : {}) };
}

/**
 * `POST /v1/datasets` (signed): lists a dataset. A retry with the same `Idempotency-Key` answers the first result
 * (version 1). The listing's content (manifest, Merkle split) is stored while the nonce is spent; the listing is
 * written once it is.
 */
export const handler = routeHandler(
  routes.createDataset,
  listingsRuntime,
  async (req, rt, prepared: PreparedListing) => {
    const { dataset, replayed } = await commitListing(rt.listings, prepared);
    req.log.info(replayed ? 'dataset create replayed' : 'dataset listed', { datasetId: dataset.id, manifestCid: dataset.manifestCid });
    return {
      status: replayed ? 200 : 201,
      body: dataset,
      headers: { location: `/v1/datasets/${dataset.id}`, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) },
    };
  },
  { prepare: (req, rt) => prepareListing(rt.listings, parameters(req)) },
);
