import { Annotations, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { KMS_HOLDERS_CONTEXT_KEY } from '../../../shared/adapters/aws/KmsKeyGate.js';

/** Props for {@link KeyGate}. */
export interface KeyGateProps {
  /** `kms`: these keys gate dataset keys; `lit`: Lit Protocol does, the keys stay idle. */
  readonly backend: 'kms' | 'lit';
  /** `true` outside dev: RETAIN the keys (losing one makes every wrapped dataset key unrecoverable). */
  readonly protectData: boolean;
  /**
   * PCR0 (= `ImageSha384`) of the enclave image that may receive dataset keys (`PROVENA_ENCLAVE_PCR0`, from the
   * EIF build). Unset: no enclave can receive a key (a synth warning says so).
   */
  readonly enclavePcr0?: string;
  /**
   * Also release training-only keys to confidential-GPU workers on another cloud (TDX / SEV-SNP + H100 in CC
   * mode), whose evidence the API verifies (`attestWorker`) and the AttestationRegistry records: `releaseKey`
   * then decrypts in the Lambda and seals to the attested worker key. KMS cannot check that evidence, so the
   * key policy exempts the `releaseKey` role from its deny. @default false (Nitro enclaves only)
   */
  readonly remoteWorkers?: boolean;
}

/**
 * The KMS key gate: two keys whose private halves never leave KMS.
 *
 * - **Inbox** (`ECC_NIST_P256`, `KEY_AGREEMENT`): owners seal a data key to its public key (ECIES over P-256,
 *   `ecies-p256-hkdf-sha256-aes256gcm-v1`); `completeUpload` opens the box with `DeriveSharedSecret`.
 * - **Gate** (symmetric): `completeUpload` rewraps the data key under it with the dataset's encryption context
 *   (`provena:datasetId`, `provena:version`, `provena:conditionsHash`, `provena:holders`); `releaseKey` decrypts.
 *
 * The gate key's policy itself (not only IAM) denies `kms:Decrypt` to every principal, administrators included,
 * unless the call carries a Nitro Enclaves attestation of the approved image (`kms:RecipientAttestation:ImageSha384`
 * = PCR0: KMS then returns the key encrypted to the enclave, `CiphertextForRecipient`) or the ciphertext's context
 * says license holders may have it (`provena:holders = true`, raw-access listings, released only after the same
 * authorizer as locally: signature, single-use nonce, the license on chain).
 */
export class KeyGate extends Construct {
  readonly key: kms.Key;
  readonly inboxKey: kms.Key;
  readonly backend: 'kms' | 'lit';
  readonly enclavePcr0: string | undefined;
  readonly remoteWorkers: boolean;
  private readonly decryptDeny: iam.PolicyStatement;

  constructor(scope: Construct, id: string, props: KeyGateProps) {
    super(scope, id);
    this.backend = props.backend;
    this.enclavePcr0 = props.enclavePcr0;
    this.remoteWorkers = props.remoteWorkers ?? false;
    const removalPolicy = props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.key = new kms.Key(this, 'Key', {
      description: 'Provena key gate: wraps per-dataset data keys',
      enableKeyRotation: true,
      removalPolicy,
    });
    this.decryptDeny = new iam.PolicyStatement({
        sid: 'DecryptOnlyUnderAttestationOrForHolders',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: {
          // Negated operators match when the key is absent: a call with neither an attestation of this image nor
          // the holders context is refused.
          StringNotEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': props.enclavePcr0 ?? 'none' },
          StringNotEquals: { [`kms:EncryptionContext:${KMS_HOLDERS_CONTEXT_KEY}`]: 'true' },
        },
      });
    this.key.addToResourcePolicy(this.decryptDeny);
    // Asymmetric keys cannot rotate automatically (KMS refuses); a new inbox key is a new deployment parameter.
    this.inboxKey = new kms.Key(this, 'InboxKey', {
      description: 'Provena key gate inbox: owners seal data keys to its public key (ECDH P-256)',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.KEY_AGREEMENT,
      removalPolicy,
    });
    if (props.backend === 'kms' && props.enclavePcr0 === undefined) {
      Annotations.of(this).addWarningV2(
        'provena:enclave-pcr0-missing',
        'PROVENA_ENCLAVE_PCR0 is unset: no enclave image is approved, so training-only datasets cannot be released to workers.',
      );
    }
  }

  /** `GET /v1/keygate`: the inbox public key. */
  grantPublicKey(grantee: iam.IGrantable): void {
    this.inboxKey.grant(grantee, 'kms:GetPublicKey');
  }

  /** `completeUpload`: open the owner's sealed key (DeriveSharedSecret) and rewrap it (Encrypt); never decrypt. */
  grantWrap(grantee: iam.IGrantable): void {
    this.inboxKey.grant(grantee, 'kms:GetPublicKey', 'kms:DeriveSharedSecret');
    this.key.grant(grantee, 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey');
  }

  /**
   * `releaseKey`: Decrypt, by IAM too only under the same two conditions as the key policy: one statement per
   * path, so neither widens the other.
   */
  grantRelease(grantee: iam.IGrantable & { readonly role?: iam.IRole | undefined }): void {
    if (this.backend !== 'kms') return;
    const principal = grantee.grantPrincipal;
    if (this.remoteWorkers) {
      if (grantee.role === undefined) throw new Error('KeyGate.grantRelease: remote workers need the releasing function\'s role');
      this.decryptDeny.addCondition('ArnNotEquals', { 'aws:PrincipalArn': grantee.role.roleArn });
      principal.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'DecryptForRemoteAttestedWorkers', actions: ['kms:Decrypt'], resources: [this.key.keyArn] }),
      );
      this.key.grant(grantee, 'kms:DescribeKey');
      return;
    }
    if (this.enclavePcr0 !== undefined) {
      principal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'DecryptToAttestedEnclave',
          actions: ['kms:Decrypt'],
          resources: [this.key.keyArn],
          conditions: { StringEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': this.enclavePcr0 } },
        }),
      );
    }
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptForLicenseHolders',
        actions: ['kms:Decrypt'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { [`kms:EncryptionContext:${KMS_HOLDERS_CONTEXT_KEY}`]: 'true' } },
      }),
    );
    this.key.grant(grantee, 'kms:DescribeKey');
  }
}
