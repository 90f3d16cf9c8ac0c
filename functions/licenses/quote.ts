import { routeHandler } from '../../shared/http/handler.js';
import { licenseRoutes as routes } from '../../shared/http/routes/licenses.js';
import { quoteDataset } from '../../shared/use-cases/quoteDataset.js';
import { quotesRuntime } from '../_lib/chainViews.js';

/** `GET /v1/datasets/{id}/quote?samples=N`: the registry's price now and what N samples cost. */
export const handler = routeHandler(routes.quoteDataset, quotesRuntime, async (req, rt) => ({ body: await quoteDataset(rt.quotes, { id: req.params.id, samples: req.query.samples }) }));
