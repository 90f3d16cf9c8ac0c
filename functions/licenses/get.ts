import { routeHandler } from '../../shared/http/handler.js';
import { licenseRoutes as routes } from '../../shared/http/routes/licenses.js';
import { getLicense } from '../../shared/use-cases/getLicense.js';
import { licensesRuntime } from '../_lib/chainViews.js';

/** `GET /v1/licenses/{id}`: terms from the index, figures from the contract views now. */
export const handler = routeHandler(routes.getLicense, licensesRuntime, async (req, rt) => ({ body: await getLicense(rt.licenses, { id: req.params.id }) }));
