/**
 * A job's data, inside the worker: the data key released through the key gate under the `job` grant (signed by
 * the attested key, sealed to it), the manifest checked against its CID, the ciphertext downloaded and every chunk
 * verified (digest, then GCM tag) before its plaintext is kept, all in memory. Nothing here writes to disk or logs.
 */
import { constants } from 'node:buffer';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Wallet } from 'ethers';
import { TAG_LENGTH, decryptToBuffer } from '../../shared/crypto/chunkedAead.js';
import { decryptReleasedKey } from '../../shared/crypto/keyRelease.js';
import { ProvenaError } from '../../shared/errors.js';
import type { ProvenaClient } from '../../shared/sdk/client.js';
import { manifestCid as cidOfManifest, requestDataKey } from '../../shared/sdk/fetchData.js';
import type { Dataset } from '../../shared/schemas/dataset.js';
import { EncryptedManifest } from '../../shared/schemas/encryptedManifest.js';
import type { Cell } from './anonymizer/index.js';
import { parseRows } from './rows.js';

/** One dataset of a job, decrypted and parsed, with the key that opened it (zero it when done). */
export interface FetchedDataset {
  datasetId: string;
  version: number;
  manifestCid: string;
  dataKey: Buffer;
  rows: Record<string, Cell>[];
}

/**
 * The plaintext bytes a manifest's chunk list proves (each chunk's ciphertext less its tag): what decrypting it will
 * hold in memory.
 */
export function manifestPlaintextBytes(manifest: EncryptedManifest): number {
  return manifest.chunks.reduce((n, c) => n + c.ciphertextSize - TAG_LENGTH, 0);
}

/**
 * Downloads `url` and decrypts it chunk by chunk against the manifest, into memory: at most `maxBytes` of plaintext
 * (checked against the manifest before anything is downloaded or allocated).
 */
export async function downloadAndDecrypt(url: string, key: Uint8Array, datasetId: string, manifest: EncryptedManifest, maxBytes: number = constants.MAX_LENGTH): Promise<Buffer> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new ProvenaError('DEPENDENCY_FAILED', `ciphertext download failed: HTTP ${res.status}`);
  const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
  const c = manifest.cipher;
  return decryptToBuffer(body, {
    key,
    datasetId,
    version: manifest.version,
    params: { formatVersion: c.formatVersion, aadVersion: c.aadVersion, chunkSize: c.chunkSize, salt: c.salt, keyCommitment: c.keyCommitment },
    chunks: manifest.chunks,
    // Decrypted as it downloads: the transfer needs the cores too (see defaultParallelHash).
    use: 'transfer',
  }, maxBytes);
}

/**
 * Fetches one dataset for `jobId` with the attested key. `expectedManifestCid` (what the job already trains on,
 * after a resume) pins the data version: versions are tried from the listing's current one down until the gate
 * serves that manifest, so a resumed worker sees exactly the rows the checkpoint was trained on. A version of more
 * than `maxBytes` plaintext fails with `WORKER_DATA_TOO_LARGE` before its key is opened or its ciphertext downloaded.
 */
export async function fetchJobDataset(
  client: ProvenaClient,
  attested: Wallet,
  chainId: number,
  grant: { jobId: string; licenseId: string },
  listing: Dataset,
  expectedManifestCid?: string,
  maxBytes: number = constants.MAX_LENGTH,
): Promise<FetchedDataset> {
  if (!listing.data) throw new ProvenaError('NOT_FOUND', `dataset ${listing.id} has no uploaded data`);
  for (let version = listing.data.version; version >= 1; version--) {
    const answer = await requestDataKey(client, attested, chainId, listing.id, version, { type: 'job', jobId: grant.jobId, licenseId: grant.licenseId });
    const actual = await cidOfManifest(answer.manifest);
    if (actual !== answer.manifestCid) throw new ProvenaError('MANIFEST_MISMATCH', `the gate served a manifest whose CID is ${actual}, not ${answer.manifestCid}`);
    if (expectedManifestCid !== undefined && answer.manifestCid !== expectedManifestCid) continue;
    const manifest = EncryptedManifest.parse(answer.manifest);
    // Before the key is opened or a byte downloaded: a version this worker cannot hold fails here, plainly.
    const bytes = manifestPlaintextBytes(manifest);
    if (bytes > maxBytes) {
      throw new ProvenaError('WORKER_DATA_TOO_LARGE', `dataset ${listing.id} version ${manifest.version} holds ${bytes} bytes of plaintext, more than this worker's ${maxBytes} (PROVENA_WORKER_MAX_DATA_BYTES)`, {
        details: { datasetId: listing.id, version: manifest.version, bytes, maxBytes },
      });
    }
    const dataKey = decryptReleasedKey(attested.privateKey, answer.key, { datasetId: listing.id, version: manifest.version });
    try {
      const plaintext = await downloadAndDecrypt(answer.downloadUrl, dataKey, listing.id, manifest, maxBytes);
      try {
        const columns = listing.dataSchema?.kind === 'tabular' ? listing.dataSchema.columns : [];
        return { datasetId: listing.id, version: manifest.version, manifestCid: answer.manifestCid, dataKey, rows: parseRows(listing.data.format, plaintext, columns) };
      } finally {
        plaintext.fill(0);
      }
    } catch (err) {
      // Returned, the key is the caller's to zero; failed here (download, decryption, rows), it is zeroed now.
      dataKey.fill(0);
      throw err;
    }
  }
  throw new ProvenaError('MANIFEST_MISMATCH', `no data version of ${listing.id} has the manifest ${expectedManifestCid ?? ''} the job trains on`);
}
