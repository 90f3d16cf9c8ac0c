import { routeHandler } from '../../shared/http/handler.js';
import { datasetRoutes as routes } from '../../shared/http/routes/datasets.js';
import { getListing } from '../../shared/use-cases/getListing.js';
import { listingReadsRuntime } from '../_lib/listings.js';

/** `GET /v1/datasets/{id}`: one listing. */
export const handler = routeHandler(routes.getDataset, listingReadsRuntime, async (req, rt) => ({ body: await getListing(rt.listings, { id: req.params.id, ledger: true }) }));
