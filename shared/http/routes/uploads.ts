/**
 * Encrypted uploads and key release: the key gate, upload sessions, releasing a data key.
 *
 * One area of the route table (shared/http/routes.ts gathers every area into `routes`, which OpenAPI, the SDK,
 * the CDK and the embedded server read). A handler imports its area's module, not the whole table, so its Lambda
 * bundle builds only the schemas of its area.
 */
import { DatasetIdParams } from '../../schemas/common.js';
import { Dataset } from '../../schemas/dataset.js';
import { KeyReleaseInput, KeyReleaseResult } from '../../schemas/keyRelease.js';
import { KeyGateInfo, UploadCompleteInput, UploadListQuery, UploadParams, UploadSession, UploadStartInput, UploadSummaryPage } from '../../schemas/upload.js';
import { defineRoute, type RouteDefinition } from '../route.js';

/** The routes of this area, by name. */
export const uploadRoutes = {
  getKeyGate: defineRoute({
    name: 'getKeyGate',
    method: 'GET',
    path: '/v1/keygate',
    handler: 'functions/keygate/info.ts',
    auth: 'public',
    summary: 'Key gate backend and the public key data keys are sealed to',
    response: KeyGateInfo,
    // Backend name and the inbox public key (KMS GetPublicKey with the KMS gate).
    access: { keyGate: 'publicKey' },
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
  listUploads: defineRoute({
    name: 'listUploads',
    method: 'GET',
    path: '/v1/uploads',
    handler: 'functions/uploads/list.ts',
    // Public like `listJobs?holder=`: summaries carry no URL, only what completing publishes anyway.
    auth: 'public',
    summary: "An owner's uploads in progress (open, not expired), newest first, with parts done of total",
    query: UploadListQuery,
    response: UploadSummaryPage,
    // Queries the sparse openByOwner index, and ListParts per session to count the parts S3 holds.
    access: { uploads: 'list', bucket: 'multipartList' },
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
    access: { datasets: 'read', nonces: 'write', bucket: 'download', keyGate: 'release' },
  }),
} as const satisfies { readonly [N in string]: RouteDefinition & { readonly name: N } };
