import { routeHandler } from '../../shared/http/handler.js';
import { royaltyRoutes as routes } from '../../shared/http/routes/royalties.js';
import { claimRoyalties } from '../../shared/use-cases/claimRoyalties.js';
import { royaltiesRuntime } from '../_lib/chainViews.js';

/** `POST /v1/royalties/{address}/claims`: relays the recipient's signed Claim (gasless for the recipient). */
export const handler = routeHandler(routes.claimRoyalties, royaltiesRuntime, async (req, rt) => {
  const result = await claimRoyalties(rt.royalties, { recipient: req.params.address, signed: req.body });
  req.log.info('royalties claimed', { recipient: result.recipient, amount: result.amount, txHash: result.txHash });
  return { body: result };
});
