/**
 * Who may ever receive a dataset's key, decided in one place: attested workers of jobs on licenses for it, and,
 * only where the listing allows raw access, license holders themselves. Training-only listings never release
 * keys to labs.
 */
import { ForbiddenError } from '../errors.js';
import type { AccessConditionsFactory } from '../ports/AccessConditionsFactory.js';
import { anyOf, type AccessConditionList } from '../schemas/accessConditions.js';
import type { Dataset } from '../schemas/dataset.js';
import type { KeyGrant } from '../schemas/keyRelease.js';

/** The conditions a registered listing's data key is wrapped under at upload. */
export function listingAccessConditions(factory: AccessConditionsFactory, listing: Dataset & { chainDatasetId: string }): AccessConditionList {
  const worker = factory.attestedWorker(listing.chainDatasetId);
  return listing.license.rawAccess ? anyOf(factory.licenseHolder(listing.chainDatasetId), worker) : worker;
}

/**
 * Refuses a license-holder release for a training-only listing. Raw access is the listing's current policy:
 * switching it off stops raw releases at once, before any re-upload rewraps the key.
 */
export function assertGrantAllowed(listing: Dataset, grant: KeyGrant): void {
  if (grant.type === 'license' && !listing.license.rawAccess) {
    throw new ForbiddenError('KEY_ACCESS_DENIED', `Dataset ${listing.id} is training-only: its key goes only to attested workers`);
  }
}
