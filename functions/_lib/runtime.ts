/**
 * The whole runtime: every piece of functions/_lib composed, for callers that want all of it (bench/profileWrite.ts).
 * Route handlers import only their own piece's getter instead (`GET /v1/health` its `healthRuntime`, health.ts)
 * (`listingsRuntime`, `uploadsRuntime`, `jobsRuntime`, ...: see functions/_lib/base.ts for why), so a route's
 * Lambda bundle holds only the adapters its route uses. Pieces are built once per process and shared: the
 * embedded stack, which imports every handler, builds each adapter once, as before.
 */
import type { S3BlobStore } from '../../shared/adapters/aws/S3BlobStore.js';
import type { EvmChain } from '../../shared/adapters/chain/EvmChain.js';
import type { ApiConfig } from '../../shared/config.js';
import type { GateInbox } from '../../shared/crypto/gateInbox.js';
import type { HttpRuntime } from '../../shared/http/handler.js';
import type { HealthCheck } from '../../shared/ports/Health.js';
import type { KeyGate } from '../../shared/ports/KeyGate.js';
import type { ListingDeps } from '../../shared/use-cases/deps.js';
import type { RoyaltyDeps } from '../../shared/use-cases/getRoyalties.js';
import type { LicenseDeps } from '../../shared/use-cases/getLicense.js';
import type { JobDeps } from '../../shared/use-cases/jobDeps.js';
import type { QuoteDatasetDeps } from '../../shared/use-cases/quoteDataset.js';
import type { RegistrationDeps } from '../../shared/use-cases/registerListing.js';
import type { ReleaseKeyDeps } from '../../shared/use-cases/releaseKey.js';
import type { UploadDeps } from '../../shared/use-cases/uploads.js';
import { getAttestation, type AttestationDeps } from './attestation.js';
import { getBase, lazy } from './base.js';
import { getBlobs } from './blobs.js';
import { licensesRuntime, quotesRuntime, royaltiesRuntime } from './chainViews.js';
import { getGate } from './gate.js';
import { getJobs } from './jobs.js';
import { healthRuntime } from './health.js';
import { keyReleaseRuntime, uploadsRuntime } from './keys.js';
import { listingsRuntime } from './listings.js';
import { registrationRuntime } from './registration.js';

/** Everything a handler may use. */
export interface Runtime extends HttpRuntime {
  config: ApiConfig;
  listings: ListingDeps;
  /** HMAC key of page cursors (PROVENA_CURSOR_SECRET). */
  cursorKey: Uint8Array;
  registration: RegistrationDeps;
  uploads: UploadDeps;
  keyRelease: ReleaseKeyDeps;
  royalties: RoyaltyDeps;
  /** Worker attestation: nonces, evidence verification, approval by the attestor key. */
  attestation: AttestationDeps;
  /** The license routes: the chain index and the contracts' views. */
  licenses: LicenseDeps;
  quotes: QuoteDatasetDeps;
  /** Training jobs: the job table, the job queue, the chain's job views and relayed reports, artifacts. */
  jobs: JobDeps;
  chain: EvmChain;
  /** Ciphertext objects (S3 / s3rver). */
  blobs: S3BlobStore;
  gate: KeyGate;
  inbox: GateInbox;
  /** Named health checks for `GET /v1/health`. */
  components: Record<string, HealthCheck>;
}

/** The runtime, built on first use from `process.env`. A config error is thrown to every caller alike. */
export const getRuntime = /* @__PURE__ */ lazy(async (): Promise<Runtime> => {
  const base = await getBase();
  const [{ listings, cursorKey }, { registration }, { uploads }, { keyRelease }, { royalties }, { licenses }, { quotes }] = await Promise.all([
    listingsRuntime(),
    registrationRuntime(),
    uploadsRuntime(),
    keyReleaseRuntime(),
    royaltiesRuntime(),
    licensesRuntime(),
    quotesRuntime(),
  ]);
  const [blobs, { gate, inbox }, attestation, jobs, { components }] = await Promise.all([getBlobs(), getGate(), getAttestation(), getJobs(), healthRuntime()]);
  return {
    ...base,
    listings,
    cursorKey,
    registration,
    uploads,
    keyRelease,
    royalties,
    attestation: attestation.deps,
    licenses,
    quotes,
    jobs: jobs.deps,
    blobs,
    gate,
    inbox,
    components,
  };
});
