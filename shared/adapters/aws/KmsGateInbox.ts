/**
 * The KMS gate's inbox: owners seal a data key to the public half of a KMS key-agreement key (ECC_NIST_P256,
 * KEY_AGREEMENT) with ECIES over P-256 (`ecies-p256-hkdf-sha256-aes256gcm-v1`, shared/crypto/ecies.ts); the gate
 * opens a box by asking KMS for the ECDH shared secret with the box's ephemeral key (`DeriveSharedSecret`), so
 * the inbox private key never leaves KMS. The data key is then in this Lambda's memory only while the upload
 * completes (its key commitment is checked and it is rewrapped under the gate key, KmsKeyGate.wrapDataKey).
 */
import { DeriveSharedSecretCommand, GetPublicKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { createPublicKey, ECDH } from 'node:crypto';
import { DependencyError } from '../../errors.js';
import { ECIES_P256_SCHEME, ephemeralPublicKeyOf, openWithSharedSecret, type SealedBox } from '../../crypto/ecies.js';
import { IntegrityError } from '../../crypto/errors.js';
import type { GateInbox } from '../../crypto/gateInbox.js';

/** DER SubjectPublicKeyInfo prefix of an uncompressed P-256 point (id-ecPublicKey, prime256v1, BIT STRING). */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/** The DER SPKI of an uncompressed P-256 point (65 bytes), as KMS takes a peer public key. */
export function p256Spki(uncompressedPoint: Uint8Array): Buffer {
  if (uncompressedPoint.length !== 65 || uncompressedPoint[0] !== 4) throw new IntegrityError('KEY_UNWRAP_FAILED', 'not an uncompressed P-256 point');
  return Buffer.concat([P256_SPKI_PREFIX, uncompressedPoint]);
}

/** The compressed point (33 bytes) of a P-256 public key given as DER SPKI. */
export function compressedFromSpki(spki: Uint8Array): Buffer {
  const jwk = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || jwk.x === undefined || jwk.y === undefined) throw new DependencyError('DEPENDENCY_FAILED', `the KMS inbox key is not P-256 (${String(jwk.crv)})`);
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  return ECDH.convertKey(point, 'prime256v1', undefined, undefined, 'compressed') as Buffer;
}

/** Options of {@link KmsGateInbox}. */
export interface KmsGateInboxOptions {
  client: KMSClient;
  /** The inbox key (ECC_NIST_P256, KEY_AGREEMENT): id or ARN. */
  keyId: string;
}

/**
 * {@link GateInbox} over a KMS key-agreement key. The public key is fetched once (GetPublicKey) and cached.
 *
 * @example
 * ```ts
 * const inbox = new KmsGateInbox({ client: new KMSClient({}), keyId: process.env.PROVENA_KEY_GATE_INBOX_KEY_ARN! });
 * const dataKey = await inbox.open(input.sealedDataKey, uploadKeyContext(datasetId, version, uploadId));
 * ```
 */
export class KmsGateInbox implements GateInbox {
  readonly scheme = ECIES_P256_SCHEME;
  private compressed: Promise<Buffer> | undefined;

  constructor(private readonly options: KmsGateInboxOptions) {}

  private recipient(): Promise<Buffer> {
    this.compressed ??= this.options.client.send(new GetPublicKeyCommand({ KeyId: this.options.keyId })).then(
      (out) => {
        if (out.PublicKey === undefined) throw new DependencyError('DEPENDENCY_FAILED', 'KMS GetPublicKey returned no PublicKey');
        if (out.KeySpec !== 'ECC_NIST_P256' || out.KeyUsage !== 'KEY_AGREEMENT') {
          throw new DependencyError('DEPENDENCY_FAILED', `the KMS inbox key must be ECC_NIST_P256 / KEY_AGREEMENT, not ${String(out.KeySpec)} / ${String(out.KeyUsage)}`);
        }
        return compressedFromSpki(out.PublicKey);
      },
      (err: unknown) => {
        this.compressed = undefined; // a transient failure must not stick for the container's life
        throw new DependencyError('DEPENDENCY_FAILED', `KMS GetPublicKey failed: ${err instanceof Error ? err.name : String(err)}`, { cause: err });
      },
    );
    return this.compressed;
  }

  async publicKey(): Promise<string> {
    return `0x${(await this.recipient()).toString('hex')}`;
  }

  async open(box: SealedBox, context: string): Promise<Buffer> {
    if (box.context !== context) throw new IntegrityError('KEY_UNWRAP_FAILED', 'the sealed key was made for another upload');
    if (box.scheme !== ECIES_P256_SCHEME) throw new IntegrityError('KEY_UNWRAP_FAILED', `the KMS gate opens ${ECIES_P256_SCHEME} boxes only`);
    const recipient = await this.recipient();
    const peer = p256Spki(ephemeralPublicKeyOf(box));
    let secret: Buffer;
    try {
      const out = await this.options.client.send(new DeriveSharedSecretCommand({ KeyId: this.options.keyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer }));
      if (out.SharedSecret === undefined) throw new Error('no SharedSecret');
      secret = Buffer.from(out.SharedSecret);
    } catch (err) {
      throw new DependencyError('DEPENDENCY_FAILED', `KMS DeriveSharedSecret failed: ${err instanceof Error ? err.name : String(err)}`, { cause: err });
    }
    try {
      return openWithSharedSecret(box, secret, recipient);
    } finally {
      secret.fill(0);
    }
  }
}
