import type { AccessConditionList } from '../schemas/accessConditions.js';

/**
 * Builds the access conditions over the deployment's contracts for one registry dataset. Which of them a listing's
 * key is wrapped under is a business rule (shared/use-cases/accessRules.ts), not the factory's.
 * Adapter: shared/adapters/chain/ProvenaAccessConditions.ts.
 */
export interface AccessConditionsFactory {
  /** An attested worker key of a job, open and funded, on a license that covers the dataset. */
  attestedWorker(chainDatasetId: string): AccessConditionList;
  /** The holder of an active license that covers the dataset. */
  licenseHolder(chainDatasetId: string): AccessConditionList;
}
