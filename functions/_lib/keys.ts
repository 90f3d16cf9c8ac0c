/** The runtimes of the routes that use the key gate: uploads, key release, the gate's public key. */
import { ProvenaAccessConditions } from '../../shared/adapters/chain/ProvenaAccessConditions.js';
import { DynamoUploadRepo } from '../../shared/adapters/aws/DynamoUploadRepo.js';
import type { ReleaseKeyDeps } from '../../shared/use-cases/releaseKey.js';
import type { UploadDeps } from '../../shared/use-cases/uploads.js';
import { contract, getBase, lazy, withBase } from './base.js';
import { getBlobs } from './blobs.js';
import { getGate } from './gate.js';
import { getDatasets, getListingDeps } from './listings.js';

/** The uploads table. */
export const getUploads = /* @__PURE__ */ lazy(async () => {
  const { dynamo, config } = await getBase();
  return new DynamoUploadRepo(dynamo, config.PROVENA_TABLE_UPLOADS);
});

/** `rt.uploads`. */
export const uploadsRuntime = /* @__PURE__ */ withBase(async ({ config }) => {
  const { gate, inbox } = await getGate();
  const uploads: UploadDeps = {
    ...(await getListingDeps()),
    uploads: await getUploads(),
    blobs: await getBlobs(),
    gate,
    inbox,
    conditions: new ProvenaAccessConditions({ chain: config.PROVENA_CHAIN_NAME, licenseManager: contract(config, 'LicenseManager'), attestationRegistry: contract(config, 'AttestationRegistry') }),
    urlTtlSeconds: config.PROVENA_UPLOAD_URL_TTL_SECONDS,
    cursorKey: config.PROVENA_CURSOR_SECRET,
  };
  return { uploads };
});

/** `rt.uploadList`: what listing an owner's uploads in progress needs (no key gate). */
export const uploadListRuntime = /* @__PURE__ */ withBase(async ({ config }) => ({
  uploadList: { uploads: await getUploads(), blobs: await getBlobs(), now: () => new Date(), cursorKey: config.PROVENA_CURSOR_SECRET },
}));

/** `rt.keyRelease`. */
export const keyReleaseRuntime = /* @__PURE__ */ withBase(async ({ config }) => {
  const { gate } = await getGate();
  const { content } = await getListingDeps();
  const keyRelease: ReleaseKeyDeps = { datasets: await getDatasets(), content, gate, blobs: await getBlobs(), downloadUrlTtlSeconds: config.PROVENA_DOWNLOAD_URL_TTL_SECONDS };
  return { keyRelease };
});

/** `rt.gate`, `rt.inbox`. */
export const keyGateRuntime = /* @__PURE__ */ withBase(() => getGate());
