import type { ContentStore } from '../ports/ContentStore.js';
import { DatasetManifest, type Dataset } from '../schemas/dataset.js';

/**
 * Writes the JSON manifest of one listing version to IPFS and returns its CID. Content addressing makes this
 * safe to run before the database write: if that write fails, the block is unreferenced, not partial state.
 */
export async function writeListingManifest(content: ContentStore, dataset: Omit<Dataset, 'manifestCid'>, previous?: string): Promise<string> {
  const manifest = DatasetManifest.parse({
    schema: 'provena.dataset-manifest/v1',
    datasetId: dataset.id,
    version: dataset.version,
    owner: dataset.owner,
    ...(previous ? { previous } : {}),
    status: dataset.status,
    ...(dataset.chainDatasetId ? { chainDatasetId: dataset.chainDatasetId } : {}),
    ...(dataset.data ? { dataManifest: dataset.data.manifestCid } : {}),
    listing: {
      title: dataset.title,
      description: dataset.description,
      tags: dataset.tags,
      dataSchema: dataset.dataSchema,
      sizeBytes: dataset.sizeBytes,
      ...(dataset.sampleCount === undefined ? {} : { sampleCount: dataset.sampleCount }),
      license: dataset.license,
      royaltySplit: dataset.royaltySplit,
      ...(dataset.merkleSplit ? { merkleSplit: dataset.merkleSplit } : {}),
      anonymization: dataset.anonymization,
      ...(dataset.privacy ? { privacy: { epsilonBudget: dataset.privacy.epsilonBudget, delta: dataset.privacy.delta } } : {}),
    },
    createdAt: dataset.updatedAt,
  });
  return (await content.addJson(manifest)).cid;
}
