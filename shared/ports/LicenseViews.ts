/**
 * The contracts' views the license routes read at request time (money figures come from the chain, never from a
 * copy). Adapter: `shared/adapters/chain/EvmLicenseViews.ts`. Amounts are decimal strings; times unix seconds.
 */

/** `getLicense` plus the NFT's owner and `isLicenseActive`. */
export interface LicenseState {
  holder: string;
  budget: string;
  unallocated: string;
  expiry: number;
  purchasedAt: number;
  active: boolean;
}

/** `getJob`. `endedAt` 0: not ended. */
export interface JobState {
  budget: string;
  spent: string;
  licenseId: string;
  maxRatePerSecond: string;
  startedAt: number;
  endedAt: number;
  refunded: boolean;
  finalized: boolean;
}

/** The registry's current record of a dataset. */
export interface RegistryDataset {
  owner: string;
  version: number;
  listed: boolean;
  pricePerSample: string;
}

/** Reads the LicenseManager's and DatasetRegistry's views. */
export interface LicenseViews {
  /** `undefined` for a license that does not exist. */
  license(licenseId: string): Promise<LicenseState | undefined>;
  job(jobId: string): Promise<JobState | undefined>;
  /** `undefined` for an unknown dataset id. */
  dataset(chainDatasetId: string): Promise<RegistryDataset | undefined>;
}
