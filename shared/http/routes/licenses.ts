/**
 * Licenses and quotes.
 *
 * One area of the route table (shared/http/routes.ts gathers every area into `routes`, which OpenAPI, the SDK,
 * the CDK and the embedded server read). A handler imports its area's module, not the whole table, so its Lambda
 * bundle builds only the schemas of its area.
 */
import { DatasetIdParams } from '../../schemas/common.js';
import { LicenseDetail, LicenseIdParams, LicenseListQuery, LicensePage, Quote, QuoteQuery } from '../../schemas/license.js';
import { defineRoute, type RouteDefinition } from '../route.js';

/** The routes of this area, by name. */
export const licenseRoutes = {
  listLicenses: defineRoute({
    name: 'listLicenses',
    method: 'GET',
    path: '/v1/licenses',
    handler: 'functions/licenses/list.ts',
    auth: 'public',
    summary: "A holder's licenses from the chain index, newest first, cursor-paginated",
    query: LicenseListQuery,
    response: LicensePage,
    access: { chainIndex: 'read' },
  }),
  getLicense: defineRoute({
    name: 'getLicense',
    method: 'GET',
    path: '/v1/licenses/{id}',
    handler: 'functions/licenses/get.ts',
    auth: 'public',
    summary: 'One license: snapshotted terms; budget, allocated, spent, remaining and jobs read from the contract views now',
    params: LicenseIdParams,
    response: LicenseDetail,
    // The index (terms, job ids) and eth_call views (RPC, no AWS).
    access: { chainIndex: 'read' },
  }),
  quoteDataset: defineRoute({
    name: 'quoteDataset',
    method: 'GET',
    path: '/v1/datasets/{id}/quote',
    handler: 'functions/licenses/quote.ts',
    auth: 'public',
    summary: "What N samples cost now at the registry's price (the maximum price a lab passes to purchase)",
    params: DatasetIdParams,
    query: QuoteQuery,
    response: Quote,
    // The listing (its registry id) and the registry's getDataset (RPC).
    access: { datasets: 'read' },
  }),
} as const satisfies { readonly [N in string]: RouteDefinition & { readonly name: N } };
