/**
 * Key gate over AWS KMS. The data key is wrapped by a KMS key (Encrypt, or GenerateDataKey when the server makes
 * the key) with an encryption context binding the dataset version and the conditions hash; release runs the
 * same request-time checks as the embedded gate (signature, time window, single-use nonce, conditions on chain)
 * and then calls Decrypt.
 *
 * ## Encryption context: why the license id is not in it
 * KMS requires the *same* encryption context at Decrypt as at Encrypt, and a data key is wrapped once, at upload,
 * before any license exists. So the context is `{provena:datasetId, provena:version, provena:conditionsHash}`
 * at both ends: KMS itself refuses to unwrap a blob for another dataset version or under other conditions. The
 * license (or job) id of a release is bound in three other places: the gate checks it on chain before calling
 * Decrypt, the sealed release carries it as authenticated context (ECIES AAD), and the gate logs it with the
 * request nonce. (CloudTrail records the Decrypt with the dataset context; correlate by time/request id.)
 *
 * ## Enclaves
 * When the requester sends a Nitro Enclaves attestation document, Decrypt is called with
 * `Recipient: {KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument}`: KMS returns
 * `CiphertextForRecipient` (CMS EnvelopedData to the enclave's ephemeral RSA key) and no plaintext, so the gate
 * never sees the key. The key policy should require `kms:RecipientAttestation:ImageSha384` (or PCR) conditions so
 * only the approved worker image can receive keys.
 */
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import type { KMSClient } from '@aws-sdk/client-kms';
import { DependencyError } from '../../errors.js';
import { sealToPublicKey } from '../../crypto/ecies.js';
import { IntegrityError } from '../../crypto/errors.js';
import { ReleaseAuthorizer, releaseContext } from '../../domain/keyReleasePolicy.js';
import type { ReleaseAuthorizerDeps } from '../../domain/keyReleasePolicy.js';
import { hashConditions } from '../../crypto/conditionsHash.js';
import type { AccessConditionList } from '../../schemas/accessConditions.js';
import { probeHealth } from '../probeHealth.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { EncryptedKeyForRequester, KeyGate, ReleaseDataKeyParams, WrapDataKeyParams, WrappedKey } from '../../ports/KeyGate.js';

/** Options of {@link KmsKeyGate}. */
export interface KmsKeyGateOptions extends Omit<ReleaseAuthorizerDeps, 'backend'> {
  client: KMSClient;
  /** KMS key id or ARN (symmetric, ENCRYPT_DECRYPT). */
  keyId: string;
}

/**
 * Encryption-context key saying whether license holders may receive the data key (`true` for raw-access
 * listings, whose conditions admit a license grant). The gate key's policy lets `kms:Decrypt` without an enclave
 * attestation through only for such ciphertexts (infra/lib/constructs/KeyGate.ts).
 */
export const KMS_HOLDERS_CONTEXT_KEY = 'provena:holders';

/** Whether `conditions` can be satisfied by a license grant: some condition reads the `:licenseId` placeholder. */
export function admitsLicenseHolders(conditions: AccessConditionList): boolean {
  return JSON.stringify(conditions).includes('":licenseId"');
}

/**
 * The encryption context of a data key (identical at wrap and unwrap, as KMS requires). `holders` is
 * {@link admitsLicenseHolders} of the conditions whose hash is `conditionsHash`.
 */
export function kmsEncryptionContext(datasetId: string, version: number, conditionsHash: string, holders: boolean): Record<string, string> {
  return { 'provena:datasetId': datasetId, 'provena:version': String(version), 'provena:conditionsHash': conditionsHash, [KMS_HOLDERS_CONTEXT_KEY]: String(holders) };
}

function kmsError(err: unknown, op: string): never {
  const name = err instanceof Error ? err.name : '';
  // InvalidCiphertextException is what KMS answers for a wrong encryption context or a foreign blob.
  if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') {
    throw new IntegrityError('KEY_UNWRAP_FAILED', `KMS ${op}: the wrapped key does not belong to this dataset version`, { cause: err });
  }
  throw new DependencyError('DEPENDENCY_FAILED', `KMS ${op} failed: ${name || String(err)}`, { cause: err });
}

/**
 * AWS KMS {@link KeyGate}.
 *
 * @example
 * ```ts
 * const gate = new KmsKeyGate({ client: new KMSClient({}), keyId: process.env.DATA_KEY_ARN!, evaluator, nonceStore, logger, domain });
 * ```
 */
export class KmsKeyGate implements KeyGate {
  readonly backend = 'kms' as const;
  private readonly authorizer: ReleaseAuthorizer;

  constructor(private readonly options: KmsKeyGateOptions) {
    this.authorizer = new ReleaseAuthorizer({ ...options, backend: this.backend });
  }

  async wrapDataKey(p: WrapDataKeyParams): Promise<WrappedKey> {
    if (p.dataKey.length !== 32) throw new IntegrityError('DATA_KEY_MISMATCH', 'data key must be 32 bytes');
    const conditionsHash = hashConditions(p.conditions);
    try {
      const out = await this.options.client.send(
        new EncryptCommand({ KeyId: this.options.keyId, Plaintext: p.dataKey, EncryptionContext: kmsEncryptionContext(p.datasetId, p.version, conditionsHash, admitsLicenseHolders(p.conditions)) }),
      );
      if (out.CiphertextBlob === undefined) throw new Error('no CiphertextBlob');
      return { backend: 'kms', keyId: out.KeyId ?? this.options.keyId, ciphertext: Buffer.from(out.CiphertextBlob).toString('base64'), conditionsHash };
    } catch (err) {
      kmsError(err, 'Encrypt');
    }
  }

  /**
   * Server-side key generation (GenerateDataKey, AES_256): for flows where the server, not the owner's machine,
   * creates the data key. The caller must zero `dataKey` after use.
   */
  async generateDataKey(p: { datasetId: string; version: number; conditions: AccessConditionList }): Promise<{ dataKey: Buffer; wrapped: WrappedKey }> {
    const conditionsHash = hashConditions(p.conditions);
    try {
      const out = await this.options.client.send(
        new GenerateDataKeyCommand({ KeyId: this.options.keyId, KeySpec: 'AES_256', EncryptionContext: kmsEncryptionContext(p.datasetId, p.version, conditionsHash, admitsLicenseHolders(p.conditions)) }),
      );
      if (out.Plaintext === undefined || out.CiphertextBlob === undefined) throw new Error('incomplete GenerateDataKey response');
      return {
        dataKey: Buffer.from(out.Plaintext),
        wrapped: { backend: 'kms', keyId: out.KeyId ?? this.options.keyId, ciphertext: Buffer.from(out.CiphertextBlob).toString('base64'), conditionsHash },
      };
    } catch (err) {
      kmsError(err, 'GenerateDataKey');
    }
  }

  async releaseDataKey(p: ReleaseDataKeyParams): Promise<EncryptedKeyForRequester> {
    if (p.wrapped.backend !== 'kms') throw new IntegrityError('KEY_UNWRAP_FAILED', 'the key was not wrapped by KMS');
    const requester = await this.authorizer.authorize(p);
    const base = {
      CiphertextBlob: Buffer.from(p.wrapped.ciphertext, 'base64'),
      KeyId: p.wrapped.keyId,
      EncryptionContext: kmsEncryptionContext(p.datasetId, p.version, p.wrapped.conditionsHash, admitsLicenseHolders(p.conditions)),
    };
    const attestation = p.requester.attestationDocument;
    let out;
    try {
      out = await this.options.client.send(
        new DecryptCommand(
          attestation === undefined
            ? base
            : { ...base, Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: Buffer.from(attestation, 'base64') } },
        ),
      );
    } catch (err) {
      kmsError(err, 'Decrypt');
    }
    const plaintext = out.Plaintext === undefined ? undefined : Buffer.from(out.Plaintext);
    if (attestation !== undefined) {
      // With a Recipient KMS must not return plaintext; if it ever did, drop it rather than hold the key.
      plaintext?.fill(0);
      if (out.CiphertextForRecipient === undefined) throw new DependencyError('DEPENDENCY_FAILED', 'KMS Decrypt with Recipient returned no CiphertextForRecipient');
      return {
        kind: 'kms-recipient',
        datasetId: p.datasetId,
        version: p.version,
        grant: p.grant,
        requester,
        ciphertextForRecipient: Buffer.from(out.CiphertextForRecipient).toString('base64'),
      };
    }
    if (plaintext === undefined) throw new DependencyError('DEPENDENCY_FAILED', 'KMS Decrypt returned no Plaintext');
    try {
      const sealed = sealToPublicKey(p.requester.publicKey, plaintext, releaseContext({ datasetId: p.datasetId, version: p.version, grant: p.grant, requester, nonce: p.proof.nonce }));
      return { kind: 'sealed', datasetId: p.datasetId, version: p.version, grant: p.grant, requester, sealed };
    } finally {
      plaintext.fill(0);
    }
  }

  async health(): Promise<ComponentHealth> {
    return probeHealth(`kms ${this.options.keyId}`, () => this.options.client.send(new DescribeKeyCommand({ KeyId: this.options.keyId })));
  }
}
