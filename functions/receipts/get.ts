import { routeHandler } from '../../shared/http/handler.js';
import { receiptRoutes as routes } from '../../shared/http/routes/receipts.js';
import { getReceipt } from '../../shared/use-cases/getReceipt.js';
import { listingsRuntime } from '../_lib/listings.js';

/** `GET /v1/receipts/{cid}`: a job receipt's stored bytes (bounded), for labs to verify themselves. */
export const handler = routeHandler(routes.getReceipt, listingsRuntime, async (req, rt) => ({ body: await getReceipt({ content: rt.listings.content }, { cid: req.params.cid }) }));
