import { routeHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/http/routes.js';
import { listListings } from '../../shared/use-cases/listListings.js';
import { getRuntime } from '../_lib/runtime.js';

/** `GET /v1/datasets?tag=&owner=&q=&status=&limit=&cursor=`: newest first, cursor-paginated. */
export const handler = routeHandler(routes.listDatasets, getRuntime, async (req, rt) => ({ body: await listListings({ datasets: rt.listings.datasets, cursorKey: rt.cursorKey }, req.query) }));
