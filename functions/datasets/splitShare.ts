import { routeHandler } from '../../shared/http/handler.js';
import { royaltyRoutes as routes } from '../../shared/http/routes/royalties.js';
import { getSplitShare } from '../../shared/use-cases/getSplitShare.js';
import { royaltiesRuntime } from '../_lib/chainViews.js';

/** `GET /v1/datasets/{id}/split/{address}`: one recipient's share of the split, with its Merkle proof. */
export const handler = routeHandler(routes.getSplitShare, royaltiesRuntime, async (req, rt) => ({
  body: await getSplitShare(rt.royalties, { id: req.params.id, address: req.params.address }),
}));
