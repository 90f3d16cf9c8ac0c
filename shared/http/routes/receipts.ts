/**
 * Job receipts, for labs and recipients.
 *
 * One area of the route table (shared/http/routes.ts gathers every area into `routes`, which OpenAPI, the SDK,
 * the CDK and the embedded server read). A handler imports its area's module, not the whole table, so its Lambda
 * bundle builds only the schemas of its area.
 */
import { ReceiptCidParams, StoredReceipt } from '../../schemas/receipt.js';
import { defineRoute, type RouteDefinition } from '../route.js';

/** The routes of this area, by name. */
export const receiptRoutes = {
  getReceipt: defineRoute({
    name: 'getReceipt',
    method: 'GET',
    path: '/v1/receipts/{cid}',
    handler: 'functions/receipts/get.ts',
    // Public: receipts are public on IPFS too; the reader recomputes the CID from the bytes.
    auth: 'public',
    summary: "A job receipt's bytes as stored (at most 256 KiB, base64): check its CID, signature and anchoring with `provena receipt verify`",
    params: ReceiptCidParams,
    response: StoredReceipt,
    // Reads the content store (IPFS over HTTP: no AWS grant).
    access: {},
  }),
} as const satisfies { readonly [N in string]: RouteDefinition & { readonly name: N } };
