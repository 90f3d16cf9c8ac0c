import { routeHandler } from '../../shared/http/handler.js';
import { routes } from '../../shared/http/routes.js';
import { getRoyalties } from '../../shared/use-cases/getRoyalties.js';
import { getRuntime } from '../_lib/runtime.js';

/** `GET /v1/royalties/{address}`: per dataset, accrued / claimed / claimable, read from the chain's views. */
export const handler = routeHandler(routes.getRoyalties, getRuntime, async (req, rt) => ({
  body: await getRoyalties(rt.royalties, { address: req.params.address }),
}));
