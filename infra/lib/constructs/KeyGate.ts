import { Annotations, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Props for {@link KeyGate}. */
export interface KeyGateProps {
  /** `kms`: this key releases dataset keys to attested enclaves; `lit`: Lit Protocol does, the key is idle. */
  readonly backend: 'kms' | 'lit';
  /** `true` outside dev: RETAIN the key (losing it makes every wrapped dataset key unrecoverable). */
  readonly protectData: boolean;
}

/**
 * The KMS key that wraps per-dataset data keys.
 *
 * Nothing is granted by default: the key policy only delegates to IAM in this account, and the stack grants
 * - {@link grantWrap} to the key-gate function (encrypt / generate data keys, never decrypt), and
 * - {@link grantAttestedDecrypt} to the GPU worker role, conditioned on a Nitro Enclave attestation document
 *   whose PCR0 matches the released enclave image, so the parent instance itself cannot unwrap keys.
 *
 * With `backend: 'lit'` the access conditions live on the Lit network instead; the key is still created so
 * a stage can switch backends without replacing resources, but no decrypt grant is made.
 */
export class KeyGate extends Construct {
  readonly key: kms.Key;
  readonly backend: 'kms' | 'lit';

  constructor(scope: Construct, id: string, props: KeyGateProps) {
    super(scope, id);
    this.backend = props.backend;
    this.key = new kms.Key(this, 'Key', {
      description: 'Provena key gate: wraps per-dataset data keys',
      enableKeyRotation: true,
      removalPolicy: props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }

  /** Lets `grantee` wrap dataset keys (Encrypt, GenerateDataKey*), never unwrap them. */
  grantWrap(grantee: iam.IGrantable): iam.Grant {
    return this.key.grant(grantee, 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey');
  }

  /**
   * Lets `grantee` unwrap dataset keys only from inside an enclave whose image measures `pcr0` (KMS checks the
   * attestation document sent as `Recipient` and returns the plaintext encrypted to the enclave's key).
   * Without a PCR0 (or with the Lit backend) nothing is granted and a synth warning says so.
   */
  grantAttestedDecrypt(grantee: iam.IGrantable, pcr0: string | undefined): void {
    if (this.backend !== 'kms') return;
    if (pcr0 === undefined) {
      Annotations.of(this).addWarningV2(
        'provena:enclave-pcr0-missing',
        'PROVENA_ENCLAVE_PCR0 is unset: GPU workers get no kms:Decrypt on the key-gate key, so they cannot unwrap dataset keys.',
      );
      return;
    }
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [this.key.keyArn],
        conditions: { StringEqualsIgnoreCase: { 'kms:RecipientAttestation:PCR0': pcr0 } },
      }),
    );
  }
}
