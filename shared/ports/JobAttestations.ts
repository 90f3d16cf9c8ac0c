/**
 * What worker attestation needs from the chain: the job (is it open, which registry datasets does its license
 * cover), each dataset's registered manifest, and the approval of an attested worker key on the
 * AttestationRegistry, sent by the attestor key through a relayer (one writer per key).
 *
 * Errors: `CHAIN_UNAVAILABLE`; from `approveWorker`, the Relayer port's `RELAYER_*` codes and
 * `ATTESTOR_NOT_CONFIGURED` when no attestor key is configured.
 */
export interface JobAttestations {
  /** The job's state now (an unknown job is inactive with no datasets). */
  job(jobId: string): Promise<{ active: boolean; chainDatasetIds: string[] }>;
  /** The manifest CID the DatasetRegistry holds for a registry dataset id. */
  manifestCidOf(chainDatasetId: string): Promise<string>;
  /**
   * `AttestationRegistry.approveWorker(jobId, worker, evidenceHash)` from the attestor key; resolves once mined.
   * Idempotent per (job, worker, evidence hash).
   */
  approveWorker(params: { jobId: string; worker: string; evidenceHash: string }): Promise<{ txHash: string }>;
}
