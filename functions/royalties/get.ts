import { routeHandler } from '../../shared/http/handler.js';
import { royaltyRoutes as routes } from '../../shared/http/routes/royalties.js';
import { getRoyalties } from '../../shared/use-cases/getRoyalties.js';
import { royaltiesRuntime } from '../_lib/chainViews.js';

/** `GET /v1/royalties/{address}`: per dataset, accrued / claimed / claimable, read from the chain's views. */
export const handler = routeHandler(routes.getRoyalties, royaltiesRuntime, async (req, rt) => ({
  body: await getRoyalties(rt.royalties, { address: req.params.address }),
}));
