import { ConflictError, NotFoundError, type DependencyError } from '../errors.js';
import type { DatasetRepo } from '../ports/DatasetRepo.js';
import type { LicenseViews } from '../ports/LicenseViews.js';
import type { Quote } from '../schemas/license.js';

export interface QuoteDatasetDeps {
  datasets: Pick<DatasetRepo, 'get'>;
  views: Pick<LicenseViews, 'dataset'>;
  now(): Date;
}

export interface QuoteDatasetParameters {
  /** The listing id (`ds_…`). */
  id: string;
  /** Decimal string. */
  samples: string;
}
export type QuoteDatasetReturnType = Quote;
export type QuoteDatasetErrorType = NotFoundError | ConflictError | DependencyError;

/**
 * What `samples` samples of a listing cost now: the price per sample is the DatasetRegistry's current price (what
 * `purchase` would snapshot), not the listing's copy. A lab passes it as its maximum price to `purchase`.
 */
export async function quoteDataset(deps: QuoteDatasetDeps, params: QuoteDatasetParameters): Promise<QuoteDatasetReturnType> {
  const stored = await deps.datasets.get(params.id);
  if (!stored) throw new NotFoundError('DATASET_NOT_FOUND', `No dataset ${params.id}`);
  const { dataset } = stored;
  if (!dataset.chainDatasetId) throw new ConflictError('DATASET_NOT_REGISTERED', `Dataset ${params.id} is not registered on chain yet: it cannot be licensed`);
  const onChain = await deps.views.dataset(dataset.chainDatasetId);
  if (!onChain) throw new ConflictError('DATASET_NOT_REGISTERED', `Registry dataset ${dataset.chainDatasetId} of ${params.id} is not on this chain`);
  return {
    datasetId: dataset.id,
    chainDatasetId: dataset.chainDatasetId,
    version: onChain.version,
    listed: onChain.listed,
    paymentToken: dataset.license.paymentToken,
    pricePerSample: onChain.pricePerSample,
    samples: params.samples,
    cost: String(BigInt(onChain.pricePerSample) * BigInt(params.samples)),
    allowedUses: dataset.license.allowedUses,
    expiryOptionsDays: dataset.license.expiryOptionsDays,
    quotedAt: deps.now().toISOString(),
  };
}
