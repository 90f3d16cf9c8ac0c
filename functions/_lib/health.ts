/**
 * The health route's piece: the named probes of every component `GET /v1/health` reports (the adapters' own
 * health checks), built from the per-route pieces, without the use-case wiring of any other route.
 */
import type { HealthCheck } from '../../shared/ports/Health.js';
import { getAttestation } from './attestation.js';
import { withBase } from './base.js';
import { getBlobs } from './blobs.js';
import { getIndexer } from './chainViews.js';
import { getGate } from './gate.js';
import { getJobs } from './jobs.js';
import { getUploads } from './keys.js';
import { getContent, getDatasets } from './listings.js';
import { getRelayer } from './relaying.js';

/** The base and `components`: named health checks, one per component (relayer and attestor where configured). */
export const healthRuntime = withBase(async (base): Promise<{ components: Record<string, HealthCheck> }> => {
  const [datasets, content, uploadRepo, blobs, { gate }, relayer, attestation, indexer, jobs] = await Promise.all([
    getDatasets(),
    getContent(),
    getUploads(),
    getBlobs(),
    getGate(),
    getRelayer(),
    getAttestation(),
    getIndexer(),
    getJobs(),
  ]);
  return {
    components: {
      datasets,
      nonces: base.nonces,
      uploads: uploadRepo,
      chain: base.chain,
      ipfs: content,
      s3: blobs,
      keyGate: gate,
      ...(relayer ? { relayer } : {}),
      ...(attestation.attestor ? { attestor: attestation.attestor } : {}),
      indexer: indexer.health,
      jobs: jobs.repo,
      jobQueue: jobs.queue,
    },
  };
});
