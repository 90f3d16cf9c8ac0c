/**
 * Model delivery and the receipt. The model (safetensors) is encrypted under a fresh data key (chunked AEAD,
 * shared/crypto/artifact.ts) and the data key sealed to the job's `modelKey` (ECIES). The receipt says what the
 * model was trained on and by whom; it is signed (EIP-191 over its canonical JSON) by the attested key, its CID
 * is `cidOfBytes(UTF-8 canonicalJson(signedReceipt))`, and the final report the attested key signs names it.
 */
import { verifyMessage, type Wallet } from 'ethers';
import { decryptArtifact, encryptArtifact, sha256Hex } from '../../shared/crypto/artifact.js';
import { generateDataKey } from '../../shared/crypto/chunkedAead.js';
import { openSealedBox, sealToPublicKey, type SealedBox } from '../../shared/crypto/ecies.js';
import { canonicalJson } from '../../shared/encoding/canonicalJson.js';
import { cidOfBytes } from '../../shared/encoding/unixfs.js';
import { ReceiptBody, SignedReceipt } from '../../shared/schemas/job.js';

/** The context bound into the model key's sealed box. */
export function modelKeyContext(jobId: string): string {
  return canonicalJson({ purpose: 'provena.model-key/v1', jobId });
}

/** An encrypted model ready to upload, and the box that opens it. */
export interface SealedModel {
  object: Buffer;
  sealedKey: SealedBox;
  /** SHA-256 hex of the plaintext safetensors. */
  sha256: string;
  bytes: number;
  encryptedBytes: number;
  /** SHA-256 hex of the uploaded object (what the upload is checked against). */
  objectSha256: string;
}

/** Encrypts `model` for the lab holding `modelKey`'s private key. */
export async function sealModel(jobId: string, model: Uint8Array, modelKey: string): Promise<SealedModel> {
  const key = generateDataKey();
  try {
    const object = await encryptArtifact(model, key, { kind: 'model', jobId });
    return {
      object,
      sealedKey: sealToPublicKey(modelKey, key, modelKeyContext(jobId)),
      sha256: sha256Hex(model),
      bytes: model.length,
      encryptedBytes: object.length,
      objectSha256: sha256Hex(object),
    };
  } finally {
    key.fill(0);
  }
}

/** The lab's side: opens the sealed key with its private key and decrypts the model. */
export async function openModel(jobId: string, object: Uint8Array, sealedKey: SealedBox, privateKey: string): Promise<Buffer> {
  const key = openSealedBox(privateKey, sealedKey);
  try {
    return await decryptArtifact(object, key, { kind: 'model', jobId });
  } finally {
    key.fill(0);
  }
}

/** Signs a receipt body with the attested key and computes its CID. */
export async function signReceipt(body: ReceiptBody, attestedKey: Pick<Wallet, 'signMessage'>): Promise<{ receipt: SignedReceipt; cid: string }> {
  const parsed = ReceiptBody.parse(body);
  const signature = await attestedKey.signMessage(canonicalJson(parsed));
  const receipt = SignedReceipt.parse({ body: parsed, signature });
  return { receipt, cid: await cidOfBytes(Buffer.from(canonicalJson(receipt), 'utf8')) };
}

/** The address that signed a receipt (EIP-191 over the body's canonical JSON). */
export function receiptSigner(receipt: SignedReceipt): string {
  return verifyMessage(canonicalJson(receipt.body), receipt.signature);
}
