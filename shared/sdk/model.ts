/**
 * Taking delivery of a trained model: the data key comes sealed (ECIES) to the job's model key, the model as a
 * chunked-AEAD artifact (shared/crypto/artifact.ts) bound to the job. Opening checks, in order: the sealed key
 * opens with the lab's private key, every chunk authenticates, the plaintext's SHA-256 and size equal the job's
 * model record and the receipt's. The plaintext is returned only when all of them hold.
 */
import { writeFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { decryptArtifact, sha256Hex } from '../crypto/artifact.js';
import { openSealedBox } from '../crypto/ecies.js';
import { ProvenaError } from '../errors.js';
import { routes } from '../http/routes.js';
import { parseCid } from '../encoding/canonicalJson.js';
import { cidOfBytes } from '../encoding/unixfs.js';
import { SignedReceipt, type JobModelDownload, type ReceiptBody } from '../schemas/job.js';
import type { ProvenaClient } from './client.js';
import { receiptSigner } from './receipt.js';

export interface OpenModelParameters {
  download: JobModelDownload;
  /** The ciphertext fetched from `download.downloadUrl`. */
  ciphertext: Uint8Array;
  /** The private key of the job's model key (0x-hex, 32 bytes). */
  privateKey: string;
  /** The verified receipt's body: its model hash and size must match too. */
  receipt?: ReceiptBody;
}
export type OpenModelReturnType = Buffer;
/** `KEY_UNWRAP_FAILED` (not this key, or an altered box), `CHUNK_*`/`MANIFEST_MISMATCH`/`DATA_KEY_MISMATCH`, `MODEL_HASH_MISMATCH`. */
export type OpenModelErrorType = ProvenaError;

/**
 * Opens an encrypted model. Throws with the code of the first check that failed; nothing is returned then.
 *
 * @example
 * ```ts
 * const model = openModel({ download, ciphertext, privateKey: lab.privateKey, receipt: verified.receipt?.body });
 * ```
 */
export async function openModel(p: OpenModelParameters): Promise<OpenModelReturnType> {
  const { download } = p;
  if (p.ciphertext.length !== download.model.encryptedBytes) {
    throw new ProvenaError('MODEL_HASH_MISMATCH', `the model download is ${p.ciphertext.length} bytes, the job records ${download.model.encryptedBytes}`);
  }
  const key = openSealedBox(p.privateKey, download.sealedKey);
  try {
    const plain = await decryptArtifact(p.ciphertext, key, { kind: 'model', jobId: download.jobId });
    const digest = sha256Hex(plain);
    const expected = [
      { what: "the job's model record", sha256: download.model.sha256, bytes: download.model.bytes },
      ...(p.receipt ? [{ what: 'the receipt', sha256: p.receipt.model.sha256, bytes: p.receipt.model.bytes }] : []),
    ];
    for (const e of expected) {
      if (e.sha256 !== digest || e.bytes !== plain.length) {
        throw new ProvenaError('MODEL_HASH_MISMATCH', `the decrypted model (sha256 ${digest}, ${plain.length} bytes) is not the one ${e.what} names (sha256 ${e.sha256}, ${e.bytes} bytes)`);
      }
    }
    return plain;
  } finally {
    key.fill(0);
  }
}

/** Writes `bytes` to `path` through a temporary file in the same folder (mode 0600), renamed into place. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    await writeFile(tmp, bytes, { mode: 0o600, flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/**
 * Fetches a receipt's bytes through the API and checks what needs no chain: the bytes hash to `cid`, they are a
 * signed receipt, and its worker key signed it. (`verifyReceipt` adds the chain's checks.)
 */
export async function fetchReceipt(client: ProvenaClient, cid: string): Promise<SignedReceipt> {
  const stored = await client.call(routes.getReceipt, { params: { cid } });
  const bytes = Buffer.from(stored.base64, 'base64');
  if (!(await sameBytesCid(bytes, cid))) throw new ProvenaError('RECEIPT_CID_MISMATCH', `the API answered bytes that do not hash to ${cid}`);
  const r = SignedReceipt.safeParse(JSON.parse(bytes.toString('utf8')));
  if (!r.success) throw new ProvenaError('RECEIPT_MALFORMED', `${cid} is not a signed receipt`);
  if (receiptSigner(r.data) !== r.data.body.worker.address) throw new ProvenaError('RECEIPT_SIGNATURE_INVALID', `${cid} is not signed by its worker key ${r.data.body.worker.address}`);
  return r.data;
}

async function sameBytesCid(bytes: Uint8Array, cid: string): Promise<boolean> {
  return parseCid(await cidOfBytes(bytes)).equals(parseCid(cid));
}

export interface FetchModelParameters {
  client: ProvenaClient;
  jobId: string;
  /** The private key of the job's model key (0x-hex). */
  privateKey: string;
  /** Where the plaintext goes (written only when every check passed). */
  out: string;
  /** How to GET the presigned URL. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
}
export interface FetchModelReturnType {
  jobId: string;
  out: string;
  sha256: string;
  bytes: number;
  receiptCid: string;
}

/**
 * `GET /v1/jobs/{jobId}/model`, download, check the receipt it names (CID and worker signature), open and check
 * the model ({@link openModel}), write it atomically to `out`.
 *
 * @example
 * ```ts
 * await fetchModel({ client, jobId: '7', privateKey: lab.privateKey, out: 'model.safetensors' });
 * ```
 */
export async function fetchModel(p: FetchModelParameters): Promise<FetchModelReturnType> {
  const download = await p.client.call(routes.getJobModel, { params: { jobId: p.jobId } });
  if (download.jobId !== p.jobId) throw new ProvenaError('RESPONSE_INVALID', `asked for job ${p.jobId}'s model, the API answered job ${download.jobId}'s`);
  const receipt = await fetchReceipt(p.client, download.receiptCid);
  if (receipt.body.jobId !== p.jobId) throw new ProvenaError('RECEIPT_MALFORMED', `receipt ${download.receiptCid} is job ${receipt.body.jobId}'s, not job ${p.jobId}'s`);
  const res = await (p.fetch ?? globalThis.fetch)(download.downloadUrl);
  if (!res.ok) throw new ProvenaError('DEPENDENCY_FAILED', `downloading the model answered HTTP ${res.status}`);
  const ciphertext = new Uint8Array(await res.arrayBuffer());
  const model = await openModel({ download, ciphertext, privateKey: p.privateKey, receipt: receipt.body });
  await writeFileAtomic(p.out, model);
  return { jobId: p.jobId, out: p.out, sha256: download.model.sha256, bytes: model.length, receiptCid: download.receiptCid };
}
