import { routeHandler } from '../../shared/http/handler.js';
import { licenseRoutes as routes } from '../../shared/http/routes/licenses.js';
import { listLicenses } from '../../shared/use-cases/listLicenses.js';
import { licensesRuntime } from '../_lib/chainViews.js';

/** `GET /v1/licenses?holder=&cursor=&limit=`: a holder's licenses from the chain index, newest first. */
export const handler = routeHandler(routes.listLicenses, licensesRuntime, async (req, rt) => ({ body: await listLicenses(rt.licenses, req.query) }));
