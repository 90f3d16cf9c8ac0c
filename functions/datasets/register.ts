import { routeHandler } from '../../shared/http/handler.js';
import { datasetRoutes as routes } from '../../shared/http/routes/datasets.js';
import { registerListing } from '../../shared/use-cases/registerListing.js';
import { registrationRuntime } from '../_lib/registration.js';

/** `POST /v1/datasets/{id}/registration` (signed, owner): relays the signed registration to the DatasetRegistry. */
export const handler = routeHandler(routes.registerDataset, registrationRuntime, async (req, rt) => {
  const dataset = await registerListing(rt.registration, { caller: req.caller.address, id: req.params.id, signed: req.body });
  req.log.info('dataset registered on chain', { datasetId: dataset.id, chainDatasetId: dataset.chainDatasetId });
  return { body: dataset };
});
