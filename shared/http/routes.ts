/**
 * The route table: every route of the public API, each defined once with {@link defineRoute}. The handler
 * wrapper, the embedded server, OpenAPI, the CDK construct and the SDK's typed client all read these objects.
 * Adding a route is one entry here plus its handler module (and its use case).
 */
import { z } from 'zod';
import { AttestWorkerInput } from '../attestation/types.js';
import { AttestationNonceResult, AttestWorkerResult, JobIdParams } from '../schemas/attestation.js';
import { DatasetIdParams } from '../schemas/common.js';
import { Dataset, DatasetInput, DatasetListQuery, DatasetPage, DatasetPatch, IdempotencyKeyHeader } from '../schemas/dataset.js';
import { HealthReport } from '../schemas/health.js';
import { KeyReleaseInput, KeyReleaseResult } from '../schemas/keyRelease.js';
import { LicenseDetail, LicenseIdParams, LicenseListQuery, LicensePage, Quote, QuoteQuery } from '../schemas/license.js';
import { RegistrationBody, RegistryTypedData } from '../schemas/registration.js';
import { ClaimBody, ClaimResult, ClaimTypedData, ClaimTypedDataQuery, RecipientParams, RoyaltiesReport } from '../schemas/royalties.js';
import { KeyGateInfo, UploadCompleteInput, UploadParams, UploadSession, UploadStartInput } from '../schemas/upload.js';
import { defineRoute, type RouteDefinition } from './route.js';

/** Every route of the public API, by name. */
export const routes = {
  getHealth: defineRoute({
    name: 'getHealth',
    method: 'GET',
    path: '/v1/health',
    handler: 'functions/health/get.ts',
    auth: 'public',
    summary: "Each component's status (503 when one is down)",
    response: HealthReport,
    // Probes each component (DescribeTable, HeadBucket) and reads nothing else.
    access: { datasets: 'read', nonces: 'describe', uploads: 'describe', bucket: 'probe', chainIndex: 'read' },
  }),
  getOpenApi: defineRoute({
    name: 'getOpenApi',
    method: 'GET',
    path: '/v1/openapi.json',
    handler: 'functions/docs/openapi.ts',
    auth: 'public',
    summary: 'This API as OpenAPI 3.1',
    response: z.record(z.string(), z.unknown()),
    access: {},
  }),
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
  getKeyGate: defineRoute({
    name: 'getKeyGate',
    method: 'GET',
    path: '/v1/keygate',
    handler: 'functions/keygate/info.ts',
    auth: 'public',
    summary: 'Key gate backend and the public key data keys are sealed to',
    response: KeyGateInfo,
    // Backend name and inbox public key, both from configuration today (a KMS GetPublicKey would go here).
    access: {},
  }),
  startUpload: defineRoute({
    name: 'startUpload',
    method: 'POST',
    path: '/v1/datasets/{id}/uploads',
    handler: 'functions/uploads/start.ts',
    auth: 'signed',
    summary: 'Start an encrypted upload: presigned multipart URLs (owner only)',
    params: DatasetIdParams,
    body: UploadStartInput,
    response: UploadSession,
    success: 201,
    access: { datasets: 'read', uploads: 'write', nonces: 'write', bucket: 'multipartStart' },
  }),
  getUpload: defineRoute({
    name: 'getUpload',
    method: 'GET',
    path: '/v1/datasets/{id}/uploads/{uploadId}',
    handler: 'functions/uploads/get.ts',
    auth: 'signed',
    summary: 'Parts received and fresh URLs for the rest (resume)',
    params: UploadParams,
    response: UploadSession,
    access: { datasets: 'read', uploads: 'read', nonces: 'write', bucket: 'multipartResume' },
  }),
  completeUpload: defineRoute({
    name: 'completeUpload',
    method: 'POST',
    path: '/v1/datasets/{id}/uploads/{uploadId}/complete',
    handler: 'functions/uploads/complete.ts',
    auth: 'signed',
    summary: 'Verify parts, wrap the data key, publish the encrypted manifest',
    params: UploadParams,
    body: UploadCompleteInput,
    response: Dataset,
    // Verifies the parts, wraps the data key, completes the object, commits the listing's new data version.
    access: { datasets: 'write', uploads: 'write', nonces: 'write', bucket: 'multipartComplete', keyGate: 'wrap' },
    lambda: { timeoutSeconds: 29, memoryMb: 1024 },
  }),
  releaseKey: defineRoute({
    name: 'releaseKey',
    method: 'POST',
    path: '/v1/datasets/{id}/keys',
    handler: 'functions/keys/release.ts',
    // Public, but authenticated by the signed key request in the body, whose single-use nonce the gate records.
    auth: 'public',
    summary: 'Key gate: release the data key, sealed to the requester, if the chain says it is entitled',
    params: DatasetIdParams,
    body: KeyReleaseInput,
    response: KeyReleaseResult,
    access: { datasets: 'read', nonces: 'write', bucket: 'download' },
  }),
  getRoyalties: defineRoute({
    name: 'getRoyalties',
    method: 'GET',
    path: '/v1/royalties/{address}',
    handler: 'functions/royalties/get.ts',
    auth: 'public',
    summary: "A recipient's royalties per dataset: accrued, claimed, claimable now (read from the chain's views)",
    params: RecipientParams,
    response: RoyaltiesReport,
    // Finds the listings naming the address (reads the table), then reads the LicenseManager's views (RPC).
    access: { datasets: 'read' },
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
  issueAttestationNonce: defineRoute({
    name: 'issueAttestationNonce',
    method: 'POST',
    path: '/v1/jobs/{jobId}/attestation-nonces',
    handler: 'functions/attestations/issueNonce.ts',
    // Public: a nonce is worth nothing without evidence from a TEE the policy trusts; issued only for an open job.
    auth: 'public',
    summary: "A fresh single-use nonce for a job's worker to bind into its attestation evidence",
    params: JobIdParams,
    response: AttestationNonceResult,
    success: 201,
    // Reads the job on chain (RPC), writes the nonce (conditional PutItem).
    access: { nonces: 'write' },
  }),
  attestWorker: defineRoute({
    name: 'attestWorker',
    method: 'POST',
    path: '/v1/jobs/{jobId}/attestations',
    handler: 'functions/attestations/attest.ts',
    // Public, but authenticated by the evidence itself: a TEE's signed document binding the worker key and the nonce.
    auth: 'public',
    summary: "Verify a worker's attestation evidence against every dataset's policy, then approve its key for the job on chain",
    params: JobIdParams,
    body: AttestWorkerInput,
    response: AttestWorkerResult,
    success: 201,
    // Consumes the nonce (conditional UpdateItem), reads manifests (IPFS), relays approveWorker with the attestor
    // key through its own journal entries. The attestor key's secret has no CDK grant yet (embedded stack only).
    access: { nonces: 'write', relayJournal: 'write' },
    lambda: { timeoutSeconds: 29, memoryMb: 512 },
  }),
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

/** A route's name. */
export type RouteName = keyof typeof routes;

/** Every route, as a list (dispatch order is irrelevant: paths plus methods are unique). */
export const routeList: readonly (RouteDefinition & { readonly name: RouteName })[] = Object.values(routes);
