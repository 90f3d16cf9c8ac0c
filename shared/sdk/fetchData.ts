/**
 * Download for the entitled: ask the key gate for a dataset's data key (sealed to the caller's own key), check
 * the manifest against the listing's CID, stream the ciphertext and decrypt it, verifying every chunk before any
 * plaintext is written; the output file appears only once every chunk verified.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { SigningKey, type Wallet } from 'ethers';
import { cidOfJson } from '../encoding/unixfs.js';
import { decryptToFile } from '../crypto/chunkedAead.js';
import { decryptReleasedKey } from '../crypto/keyRelease.js';
import { keyRequestDomain } from '../eip712.js';
import { signKeyRequest } from '../crypto/keyRequest.js';
import { ProvenaError } from '../errors.js';
import type { KeyGrant, KeyReleaseResult } from '../schemas/keyRelease.js';
import { EncryptedManifest } from '../schemas/encryptedManifest.js';
import type { ProvenaClient } from './client.js';

/** What the key gate answers (the route's response schema). */
export type KeyReleaseAnswer = KeyReleaseResult;

/** The CID `manifest` has when added as canonical JSON: how a client checks what the API handed it. */
export function manifestCid(manifest: unknown): Promise<string> {
  return cidOfJson(manifest);
}

/**
 * Requests the data key of `datasetId`'s current data version under `grant`, signed by `wallet` (the key is
 * sealed to this wallet's own public key). Throws the gate's refusal code when not entitled.
 */
export async function requestDataKey(
  client: ProvenaClient,
  wallet: Wallet,
  chainId: number,
  datasetId: string,
  version: number,
  grant: KeyGrant,
): Promise<KeyReleaseAnswer> {
  const publicKey = SigningKey.computePublicKey(wallet.signingKey.publicKey, true);
  const proof = await signKeyRequest(wallet, keyRequestDomain(chainId), { datasetId, version, grant, requesterPublicKey: publicKey });
  const body = { version, grant, requester: { address: wallet.address, publicKey }, proof };
  return client.releaseKey(datasetId, body);
}

export interface FetchDatasetOptions {
  grant: KeyGrant;
  /** Where the plaintext goes; written only after every chunk verified. */
  out: string;
  /** The manifest CID the caller trusts (default: the listing's `data.manifestCid` as the API reports it). */
  expectedManifestCid?: string;
}

/**
 * Fetches and decrypts a dataset the caller is entitled to. Returns the plaintext byte count.
 *
 * @example
 * ```ts
 * await fetchDataset(client, wallet, 'ds_…', { grant: { type: 'license', licenseId: '1' }, out: 'data.csv' });
 * ```
 */
export async function fetchDataset(client: ProvenaClient, wallet: Wallet, datasetId: string, options: FetchDatasetOptions): Promise<number> {
  const listing = await client.getDataset(datasetId);
  if (!listing.data) throw new ProvenaError('NOT_FOUND', `Dataset ${datasetId} has no uploaded data yet`);
  const { chainId } = await client.health();
  const answer = await requestDataKey(client, wallet, chainId, datasetId, listing.data.version, options.grant);

  const expected = options.expectedManifestCid ?? listing.data.manifestCid;
  const actual = await manifestCid(answer.manifest);
  if (actual !== expected || answer.manifestCid !== expected) {
    throw new ProvenaError('MANIFEST_MISMATCH', `The manifest served (${actual}) is not ${expected}`);
  }
  const manifest = EncryptedManifest.parse(answer.manifest);
  const key = decryptReleasedKey(wallet.privateKey, answer.key, { datasetId, version: manifest.version });
  try {
    const res = await fetch(answer.downloadUrl);
    if (!res.ok || !res.body) throw new ProvenaError('DEPENDENCY_FAILED', `Download failed: HTTP ${res.status}`);
    const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
    return await decryptToFile(body, options.out, {
      key,
      datasetId,
      version: manifest.version,
      params: { formatVersion: manifest.cipher.formatVersion, aadVersion: manifest.cipher.aadVersion, chunkSize: manifest.cipher.chunkSize, salt: manifest.cipher.salt, keyCommitment: manifest.cipher.keyCommitment },
      chunks: manifest.chunks,
      // Decrypted as it downloads: the transfer needs the cores too (see defaultParallelHash).
      use: 'transfer',
    });
  } finally {
    key.fill(0);
  }
}
