import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

/** Props for {@link DataBucket}. */
export interface DataBucketProps {
  /** `true` outside dev: RETAIN the bucket and its key. */
  readonly protectData: boolean;
}

/**
 * The ciphertext bucket (`PROVENA_BUCKET_DATA`). Objects are already encrypted client-side with per-dataset
 * keys; SSE-KMS with a customer key is the at-rest layer, and the S3 Bucket Key keeps KMS request costs flat
 * for multipart uploads of large datasets.
 */
export class DataBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly key: kms.Key;
  /** Server access logs of the data bucket (who fetched which ciphertext object, through which presigned URL). */
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataBucketProps) {
    super(scope, id);
    const policy = props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.key = new kms.Key(this, 'Key', {
      description: 'Provena data bucket SSE-KMS key',
      enableKeyRotation: true,
      removalPolicy: policy,
    });
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // S3 server access logging delivers only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(365) }],
      removalPolicy: policy,
    });
    acknowledge(this.accessLogs, 'AwsSolutions-S1', 'This is the access-log bucket itself: logging it would log into itself or need a third bucket');
    this.bucket = new s3.Bucket(this, 'Bucket', {
      // Cast: CDK's Bucket class does not satisfy its own IBucket under exactOptionalPropertyTypes (same object).
      serverAccessLogsBucket: this.accessLogs as s3.IBucket,
      serverAccessLogsPrefix: 'data/',
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        // Abandoned multipart uploads are billed but invisible; drop them.
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(7) },
        // Versioning guards against overwrite mistakes; old ciphertext versions are not kept forever.
        { id: 'expire-noncurrent', noncurrentVersionExpiration: Duration.days(30) },
      ],
      cors: [
        {
          // Browsers upload parts straight to S3 with presigned URLs; the URL's signature is the authorization,
          // so any origin may PUT. ETag must be readable to complete the multipart upload.
          allowedMethods: [s3.HttpMethods.PUT],
          allowedOrigins: ['*'],
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
          maxAge: 3000,
        },
      ],
      // No autoDeleteObjects: it adds a CDK-provided Lambda; a non-empty dev bucket must be emptied by hand.
      removalPolicy: policy,
    });
  }
}
