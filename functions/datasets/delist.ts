import { routeHandler } from '../../shared/http/handler.js';
import { datasetRoutes as routes } from '../../shared/http/routes/datasets.js';
import { delistListing } from '../../shared/use-cases/delistListing.js';
import { listingsRuntime } from '../_lib/listings.js';

/** `DELETE /v1/datasets/{id}` (signed, owner only): delists; the listing stays readable. */
export const handler = routeHandler(routes.delistDataset, listingsRuntime, async (req, rt) => {
  const dataset = await delistListing(rt.listings, { caller: req.caller.address, id: req.params.id });
  req.log.info('dataset delisted', { datasetId: dataset.id, version: dataset.version });
  return { body: dataset };
});
