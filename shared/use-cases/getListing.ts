import { NotFoundError, type DependencyError } from '../errors.js';
import type { Dataset } from '../schemas/dataset.js';
import type { ListingDeps } from './deps.js';

export interface GetListingParameters {
  id: string;
  /** Add the privacy ledger (epsilon spent and reserved) to `privacy`: what `GET /v1/datasets/{id}` answers. */
  ledger?: boolean;
}
export type GetListingReturnType = Dataset;
export type GetListingErrorType = NotFoundError | DependencyError;

/** Reads one listing (delisted ones too: existing licenses still point at them). */
export async function getListing(deps: Pick<ListingDeps, 'datasets'>, params: GetListingParameters): Promise<GetListingReturnType> {
  const stored = await deps.datasets.get(params.id);
  if (!stored) throw new NotFoundError('DATASET_NOT_FOUND', `No dataset ${params.id}`);
  const { dataset, privacyLedger } = stored;
  if (!params.ledger || !dataset.privacy) return dataset;
  return { ...dataset, privacy: { ...dataset.privacy, epsilonSpent: privacyLedger?.epsilonSpent ?? 0, epsilonReserved: privacyLedger?.epsilonReserved ?? 0 } };
}
