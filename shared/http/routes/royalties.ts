/**
 * Royalties: Merkle split shares, pools, claims.
 *
 * One area of the route table (shared/http/routes.ts gathers every area into `routes`, which OpenAPI, the SDK,
 * the CDK and the embedded server read). A handler imports its area's module, not the whole table, so its Lambda
 * bundle builds only the schemas of its area.
 */
import { ClaimBody, ClaimResult, ClaimTypedData, ClaimTypedDataQuery, RecipientParams, RoyaltiesReport, SplitShare, SplitShareParams } from '../../schemas/royalties.js';
import { defineRoute, type RouteDefinition } from '../route.js';

/** The routes of this area, by name. */
export const royaltyRoutes = {
  getSplitShare: defineRoute({
    name: 'getSplitShare',
    method: 'GET',
    path: '/v1/datasets/{id}/split/{address}',
    handler: 'functions/datasets/splitShare.ts',
    auth: 'public',
    summary: "One recipient's share of a listing's royalty split: for a Merkle split its units and proof (from the tree stored beside the manifest, checked against the registry's root) and whether the chain already holds them; for an explicit split its basis points",
    params: SplitShareParams,
    response: SplitShare,
    // The listing (table), the tree dump (IPFS), the registry's root and the pool position (RPC).
    access: { datasets: 'read' },
  }),
  getRoyalties: defineRoute({
    name: 'getRoyalties',
    method: 'GET',
    path: '/v1/royalties/{address}',
    handler: 'functions/royalties/get.ts',
    auth: 'public',
    summary: "A recipient's royalties per dataset and job: accrued, claimed, claimable now (the chain's views), the current rate of running jobs, and the history of accruals and claims with transactions (the chain index)",
    params: RecipientParams,
    response: RoyaltiesReport,
    // Finds the listings naming the address (reads the table), reads the LicenseManager's views (RPC), and the
    // chain index's accruals and claims (and its cursor).
    access: { datasets: 'read', chainIndex: 'read' },
  }),
  getClaimTypedData: defineRoute({
    name: 'getClaimTypedData',
    method: 'GET',
    path: '/v1/royalties/{address}/claim-typed-data',
    handler: 'functions/royalties/claimTypedData.ts',
    auth: 'public',
    summary: 'The EIP-712 Claim a recipient signs for a gasless claim (nonce from the contract)',
    params: RecipientParams,
    query: ClaimTypedDataQuery,
    response: ClaimTypedData,
    access: { datasets: 'read' },
  }),
  claimRoyalties: defineRoute({
    name: 'claimRoyalties',
    method: 'POST',
    path: '/v1/royalties/{address}/claims',
    handler: 'functions/royalties/claim.ts',
    // Public, but authenticated by the recipient's EIP-712 Claim in the body, which the contract verifies and
    // whose nonce it consumes (a signed request on top would add nothing).
    auth: 'public',
    summary: "Relay the recipient's signed Claim (gasless); the same signature again answers the same result",
    params: RecipientParams,
    body: ClaimBody,
    response: ClaimResult,
    access: { relayerSecret: 'read', relayJournal: 'write' },
  }),
} as const satisfies { readonly [N in string]: RouteDefinition & { readonly name: N } };
