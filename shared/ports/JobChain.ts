import type { UsageReportWire } from '../schemas/job.js';

/** `LicenseManager.getJob` plus `isJobActive` at the same moment. `endedAt` 0: not ended. Times unix seconds. */
export interface ChainJob {
  licenseId: string;
  budget: string;
  spent: string;
  maxRatePerSecond: string;
  startedAt: number;
  endedAt: number;
  expiry: number;
  refunded: boolean;
  finalized: boolean;
  active: boolean;
}

/** One dataset of a job on chain: its price (snapshotted at purchase) and the samples settled so far. */
export interface ChainJobDataset {
  chainDatasetId: string;
  pricePerSample: string;
  settledSamples: string;
}

/** A relayed report as mined: what each dataset's `RoyaltyAccrued` event paid. */
export interface MinedReport {
  txHash: string;
  blockTimestamp: number;
  /** Sum of the `RoyaltyAccrued` amounts (0 for a report that settled nothing new). */
  paid: string;
  accrued: { chainDatasetId: string; cumulativeSamples: string; amount: string }[];
}

/**
 * What the job routes read from and send to the chain: the LicenseManager's job views, the license NFT's owner,
 * the registry's manifests, the AttestationRegistry's approvals, and usage reports relayed from the platform's
 * relayer key (gas paid by the platform; the worker's attested key signs).
 *
 * Errors: `CHAIN_UNAVAILABLE`; from the relays, contract refusals decoded to stable codes (`JOB_REPORT_*`) and the
 * Relayer port's `RELAYER_*` codes.
 */
export interface JobChain {
  /** `undefined` for a job id the chain does not know (`startedAt` 0). */
  job(jobId: string): Promise<ChainJob | undefined>;
  /** The license NFT's owner now, and whether the license is active (unexpired). `undefined`: no such license. */
  license(licenseId: string): Promise<{ holder: string; expiry: number; active: boolean } | undefined>;
  /** The job's datasets with their terms and settled samples (read at one block). */
  jobDatasets(jobId: string): Promise<ChainJobDataset[]>;
  /** The manifest CID the DatasetRegistry holds for a registry dataset. */
  manifestCidOf(chainDatasetId: string): Promise<string>;
  /** `AttestationRegistry.evidenceOf(jobId, worker)`: zero hash when the key is not approved. */
  approval(jobId: string, worker: string): Promise<{ approved: boolean; evidenceHash: string }>;
  /** `LicenseManager.receiptOf(jobId)` (keccak256 of the receipt CID; zero hash before finalizeJob). */
  receiptOf(jobId: string): Promise<string>;
  /** Relays `submitReport`; resolves once mined. Idempotent per `idempotencyKey`. */
  relayReport(report: UsageReportWire, signature: string, idempotencyKey: string): Promise<MinedReport>;
  /** Relays `finalizeJob`; resolves once mined. Idempotent per `idempotencyKey`. */
  relayFinalize(report: UsageReportWire, receiptCid: string, signature: string, idempotencyKey: string): Promise<MinedReport>;
}
