import { routeHandler } from '../../shared/http/handler.js';
import { datasetRoutes as routes } from '../../shared/http/routes/datasets.js';
import { listListings } from '../../shared/use-cases/listListings.js';
import { listingReadsRuntime } from '../_lib/listings.js';

/** `GET /v1/datasets?tag=&owner=&q=&status=&limit=&cursor=`: newest first, cursor-paginated. */
export const handler = routeHandler(routes.listDatasets, listingReadsRuntime, async (req, rt) => ({ body: await listListings({ datasets: rt.listings.datasets, cursorKey: rt.cursorKey }, req.query) }));
