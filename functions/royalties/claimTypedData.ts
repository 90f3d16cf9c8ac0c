import { routeHandler } from '../../shared/http/handler.js';
import { royaltyRoutes as routes } from '../../shared/http/routes/royalties.js';
import { royaltyClaimTypedData } from '../../shared/use-cases/royaltyClaimTypedData.js';
import { royaltiesRuntime } from '../_lib/chainViews.js';

/** `GET /v1/royalties/{address}/claim-typed-data`: the EIP-712 Claim to sign for a gasless claim. */
export const handler = routeHandler(routes.getClaimTypedData, royaltiesRuntime, async (req, rt) => ({
  body: await royaltyClaimTypedData(rt.royalties, { address: req.params.address, ...req.query }),
}));
