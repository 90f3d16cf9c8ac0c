import { routeHandler } from '../../shared/http/handler.js';
import { datasetRoutes as routes } from '../../shared/http/routes/datasets.js';
import { updateListing } from '../../shared/use-cases/updateListing.js';
import { listingsRuntime } from '../_lib/listings.js';

/** `PATCH /v1/datasets/{id}` (signed, owner only): a new version of the listing. */
export const handler = routeHandler(routes.updateDataset, listingsRuntime, async (req, rt) => {
  const dataset = await updateListing(rt.listings, { caller: req.caller.address, id: req.params.id, patch: req.body });
  req.log.info('dataset updated', { datasetId: dataset.id, version: dataset.version, manifestCid: dataset.manifestCid });
  return { body: dataset };
});
