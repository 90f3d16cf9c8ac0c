import { routeHandler } from '../../shared/http/handler.js';
import { datasetRoutes as routes } from '../../shared/http/routes/datasets.js';
import { registrationTypedData } from '../../shared/use-cases/registerListing.js';
import { registrationRuntime } from '../_lib/registration.js';

/** `GET /v1/datasets/{id}/registration`: the EIP-712 `Registration` (or `Update`) the owner signs (gasless). */
export const handler = routeHandler(routes.getRegistration, registrationRuntime, async (req, rt) => ({ body: await registrationTypedData(rt.registration, { id: req.params.id }) }));
