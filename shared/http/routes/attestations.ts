/**
 * Worker attestation: nonces and evidence.
 *
 * One area of the route table (shared/http/routes.ts gathers every area into `routes`, which OpenAPI, the SDK,
 * the CDK and the embedded server read). A handler imports its area's module, not the whole table, so its Lambda
 * bundle builds only the schemas of its area.
 */
import { AttestWorkerInput } from '../../attestation/types.js';
import { AttestWorkerResult, AttestationNonceResult, JobIdParams } from '../../schemas/attestation.js';
import { defineRoute, type RouteDefinition } from '../route.js';

/** The routes of this area, by name. */
export const attestationRoutes = {
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
} as const satisfies { readonly [N in string]: RouteDefinition & { readonly name: N } };
