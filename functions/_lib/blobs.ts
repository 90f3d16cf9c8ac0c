/** The ciphertext object store (S3 / s3rver). */
import { S3BlobStore } from '../../shared/adapters/aws/S3BlobStore.js';
import { getBase, lazy } from './base.js';

/** The S3 blob store, built once per process. */
export const getBlobs = /* @__PURE__ */ lazy(async () => {
  const { config } = await getBase();
  return new S3BlobStore({
    bucket: config.PROVENA_BUCKET_DATA,
    region: config.AWS_REGION,
    ...(config.PROVENA_S3_ENDPOINT ? { endpoint: config.PROVENA_S3_ENDPOINT } : {}),
    forcePathStyle: config.PROVENA_S3_FORCE_PATH_STYLE,
  });
});
