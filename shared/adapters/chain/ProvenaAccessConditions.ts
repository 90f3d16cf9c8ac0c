import type { AccessConditionsFactory } from '../../ports/AccessConditionsFactory.js';
import type { AccessConditionList } from '../../schemas/accessConditions.js';
import { attestedWorkerCondition, licenseHolderCondition } from './provenaConditions.js';

/** {@link AccessConditionsFactory} over Provena's deployed `LicenseManager` and `AttestationRegistry`. */
export class ProvenaAccessConditions implements AccessConditionsFactory {
  constructor(private readonly deployment: { chain: string; licenseManager: string; attestationRegistry: string }) {}

  attestedWorker(chainDatasetId: string): AccessConditionList {
    const { chain, licenseManager, attestationRegistry } = this.deployment;
    return attestedWorkerCondition({ attestationRegistry, licenseManager, chain, datasetId: chainDatasetId });
  }

  licenseHolder(chainDatasetId: string): AccessConditionList {
    const { chain, licenseManager } = this.deployment;
    return licenseHolderCondition({ licenseManager, chain, datasetId: chainDatasetId });
  }
}
