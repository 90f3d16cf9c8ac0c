/** `POST /v1/datasets/{id}/keys`: ask the key gate for a dataset version's data key. */
import * as z from 'zod';
import { Address, hexBytes } from './common.js';
import { EncryptedManifest } from './encryptedManifest.js';
import { SealedBoxSchema } from './upload.js';

const Uint = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'must be a non-negative integer as a decimal string');

/** The body: which grant, who asks (the key is sealed to this public key), and the EIP-712 key-request proof. */
export const KeyReleaseInput = z.strictObject({
  /** The data version the caller wants (default: the listing's current one). */
  version: z.number().int().min(1).optional(),
  grant: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('license'), licenseId: Uint }),
    z.strictObject({ type: z.literal('job'), jobId: Uint, licenseId: Uint.optional() }),
  ]),
  requester: z.strictObject({
    address: Address,
    /** The requester's own secp256k1 public key (0x-hex, compressed or not): it must hash to `address`. */
    publicKey: z.string().regex(/^0x([0-9a-fA-F]{66}|[0-9a-fA-F]{130})$/, 'must be a 33- or 65-byte public key'),
  }),
  proof: z.strictObject({
    nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
    issuedAt: z.number().int().min(0),
    signature: hexBytes(4096),
    /** Lit gate only: the requester's Lit session signatures (SessionSigsMap, one entry per Lit node). */
    litSessionSigs: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type KeyReleaseInput = z.output<typeof KeyReleaseInput>;

/** On whose behalf a key is asked for: a license (a lab, raw-access listings only) or a job (an attested worker). */
export const KeyGrant = KeyReleaseInput.shape.grant;
export type KeyGrant = z.output<typeof KeyGrant>;

const releasedFor = { datasetId: z.string(), version: z.number().int(), grant: KeyGrant, requester: z.string() };

/** The data key as the gate hands it back: sealed to the requester, never in plaintext. */
export const EncryptedKeyForRequester = z.discriminatedUnion('kind', [
  /** ECIES box to the requester's public key. */
  z.object({ kind: z.literal('sealed'), ...releasedFor, sealed: SealedBoxSchema }),
  /** base64 CMS EnvelopedData from KMS Decrypt with Recipient; only the attested enclave can open it. */
  z.object({ kind: z.literal('kms-recipient'), ...releasedFor, ciphertextForRecipient: z.string() }),
]);
export type EncryptedKeyForRequester = z.output<typeof EncryptedKeyForRequester>;

/** The answer of `POST /v1/datasets/{id}/keys`. */
export const KeyReleaseResult = z.object({
  key: EncryptedKeyForRequester,
  /** CID of the encrypted manifest the key belongs to; the client checks the manifest against it. */
  manifestCid: z.string(),
  manifest: EncryptedManifest,
  /** A presigned GET of the ciphertext, issued only after the gate said yes. */
  downloadUrl: z.string(),
});
export type KeyReleaseResult = z.output<typeof KeyReleaseResult>;
