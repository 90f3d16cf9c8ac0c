import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** Props for {@link DataTables}. */
export interface DataTablesProps {
  /** `true` outside dev: deletion protection on and RETAIN, so a stack mistake cannot drop listings. */
  readonly protectData: boolean;
}

/**
 * The DynamoDB tables the API handlers read through `PROVENA_TABLE_*`:
 * - `datasets`: PK `id`; GSIs `byStatus` (`status`, `createdAtId`) and `byOwner` (`owner`, `createdAtId`).
 * - `nonces`: PK `pk`; TTL on `expiresAt` (handlers also filter `expiresAt > now`, dynalite has no TTL).
 * - `uploads`: PK `uploadId`; one item per encrypted upload session, mapping an S3 multipart upload to its
 *   dataset and data version (no TTL: a completed session records where a data version came from).
 * - `idempotency`: Powertools idempotency records, PK `id`, TTL on `expiration` (Powertools' defaults).
 *
 * All on-demand (traffic is spiky and small; no capacity to tune), PITR on, AWS-managed KMS encryption
 * (encrypted with a KMS key and needs no key grants beside the table grants).
 */
export class DataTables extends Construct {
  readonly datasets: dynamodb.Table;
  readonly nonces: dynamodb.Table;
  readonly uploads: dynamodb.Table;
  readonly idempotency: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DataTablesProps) {
    super(scope, id);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
    } as const;
    const dataPolicy = props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.datasets = new dynamodb.Table(this, 'Datasets', {
      ...common,
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      deletionProtection: props.protectData,
      removalPolicy: dataPolicy,
    });
    // `createdAtId` = ISO createdAt + '#' + id: sorts by time and stays unique for cursor pagination.
    for (const [indexName, pk] of [['byStatus', 'status'], ['byOwner', 'owner']] as const) {
      this.datasets.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: pk, type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'createdAtId', type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    // Nonces and idempotency records are short-lived and rebuildable: losing them on a dev teardown is fine,
    // but outside dev a dropped nonce table would reopen replay windows, so they share the data policy.
    this.nonces = new dynamodb.Table(this, 'Nonces', {
      ...common,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
      deletionProtection: props.protectData,
      removalPolicy: dataPolicy,
    });

    // Same layout as shared/adapters/aws/tables.ts. Losing it would orphan in-flight multipart uploads and
    // the record of which upload produced each data version, so it gets the datasets table's protection.
    this.uploads = new dynamodb.Table(this, 'Uploads', {
      ...common,
      partitionKey: { name: 'uploadId', type: dynamodb.AttributeType.STRING },
      deletionProtection: props.protectData,
      removalPolicy: dataPolicy,
    });

    this.idempotency = new dynamodb.Table(this, 'Idempotency', {
      ...common,
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      removalPolicy: dataPolicy,
    });
  }
}
