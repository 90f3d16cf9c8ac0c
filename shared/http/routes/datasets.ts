/**
 * Listings: create, read, update, delist, and their on-chain registration.
 *
 * One area of the route table (shared/http/routes.ts gathers every area into `routes`, which OpenAPI, the SDK,
 * the CDK and the embedded server read). A handler imports its area's module, not the whole table, so its Lambda
 * bundle builds only the schemas of its area.
 */
import { DatasetIdParams } from '../../schemas/common.js';
import { Dataset, DatasetInput, DatasetListQuery, DatasetPage, DatasetPatch, IdempotencyKeyHeader } from '../../schemas/dataset.js';
import { RegistrationBody, RegistryTypedData } from '../../schemas/registration.js';
import { defineRoute, type RouteDefinition } from '../route.js';

/** The routes of this area, by name. */
export const datasetRoutes = {
  createDataset: defineRoute({
    name: 'createDataset',
    method: 'POST',
    path: '/v1/datasets',
    handler: 'functions/datasets/create.ts',
    auth: 'signed',
    summary: 'List a dataset (a retry with the same Idempotency-Key and body answers 200 with the first result, version 1 as created, even after later updates)',
    headers: IdempotencyKeyHeader,
    body: DatasetInput,
    response: Dataset,
    success: 201,
    access: { datasets: 'write', nonces: 'write', bucket: 'upload' },
    // Listing is free for any fresh key: bound how fast one client can fill the table (and the content store).
    rateLimit: { perClient: { ratePerSecond: 2, burst: 20 }, total: { ratePerSecond: 20, burst: 100 } },
  }),
  listDatasets: defineRoute({
    name: 'listDatasets',
    method: 'GET',
    path: '/v1/datasets',
    handler: 'functions/datasets/list.ts',
    auth: 'public',
    summary: 'Search listings (tag, owner, text), cursor-paginated',
    query: DatasetListQuery,
    response: DatasetPage,
    access: { datasets: 'read' },
  }),
  getDataset: defineRoute({
    name: 'getDataset',
    method: 'GET',
    path: '/v1/datasets/{id}',
    handler: 'functions/datasets/get.ts',
    auth: 'public',
    summary: 'One listing',
    params: DatasetIdParams,
    response: Dataset,
    access: { datasets: 'read' },
  }),
  updateDataset: defineRoute({
    name: 'updateDataset',
    method: 'PATCH',
    path: '/v1/datasets/{id}',
    handler: 'functions/datasets/update.ts',
    auth: 'signed',
    summary: 'Change a listing (owner only); writes a new version',
    params: DatasetIdParams,
    body: DatasetPatch,
    response: Dataset,
    access: { datasets: 'write', nonces: 'write', bucket: 'upload' },
  }),
  delistDataset: defineRoute({
    name: 'delistDataset',
    method: 'DELETE',
    path: '/v1/datasets/{id}',
    handler: 'functions/datasets/delist.ts',
    auth: 'signed',
    summary: 'Delist (owner only): stops new sales, keeps existing licenses',
    params: DatasetIdParams,
    response: Dataset,
    access: { datasets: 'write', nonces: 'write' },
  }),
  getRegistration: defineRoute({
    name: 'getRegistration',
    method: 'GET',
    path: '/v1/datasets/{id}/registration',
    handler: 'functions/datasets/getRegistration.ts',
    auth: 'public',
    summary: 'The EIP-712 Registration (or Update) the owner signs to put the listing on chain (gasless)',
    params: DatasetIdParams,
    response: RegistryTypedData,
    // Builds the EIP-712 message from the listing and the chain (RPC, no AWS).
    access: { datasets: 'read' },
  }),
  registerDataset: defineRoute({
    name: 'registerDataset',
    method: 'POST',
    path: '/v1/datasets/{id}/registration',
    handler: 'functions/datasets/register.ts',
    auth: 'signed',
    summary: "Relay the owner's signed registration to the DatasetRegistry",
    params: DatasetIdParams,
    body: RegistrationBody,
    response: Dataset,
    // Relays on chain with the relayer key, then writes the listing's new version.
    access: { datasets: 'write', nonces: 'write', relayerSecret: 'read', relayJournal: 'write', relayQuota: 'write' },
    // Each call may cost the relayer gas; the daily quota and budget (relayQuota.ts) bound the total.
    rateLimit: { perClient: { ratePerSecond: 1, burst: 10 }, total: { ratePerSecond: 5, burst: 20 } },
  }),
} as const satisfies { readonly [N in string]: RouteDefinition & { readonly name: N } };
