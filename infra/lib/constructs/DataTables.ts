import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource, arnToken } from '../nag.js';
import { TABLES, type TableName } from '../../../shared/adapters/aws/tableLayout.js';

/** Props for {@link DataTables}. */
export interface DataTablesProps {
  /** `true` outside dev: deletion protection on and RETAIN, so a stack mistake cannot drop listings. */
  readonly protectData: boolean;
}

/**
 * The DynamoDB tables the API handlers read through `PROVENA_TABLE_*`, built from the one layout in
 * `shared/adapters/aws/tableLayout.ts` (keys, indexes, TTL), which the adapters and the embedded stack read too.
 *
 * All on-demand (traffic is spiky and small; no capacity to tune), PITR on, AWS-managed KMS encryption
 * (encrypted with a KMS key and needs no key grants beside the table grants). Outside dev every table is
 * retained: data tables hold users' state, and a dropped nonce table would reopen replay windows.
 */
export class DataTables extends Construct {
  readonly datasets: dynamodb.Table;
  readonly nonces: dynamodb.Table;
  readonly uploads: dynamodb.Table;
  readonly relayJournal: dynamodb.Table;
  /** The chain index (licenses, jobs) and the indexer's cursor, written by the indexer's scheduled Lambda. */
  readonly licenses: dynamodb.Table;
  readonly indexer: dynamodb.Table;
  readonly relayQuota: dynamodb.Table;
  /** Training jobs (submit, lease, checkpoints, result). */
  readonly jobs: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DataTablesProps) {
    super(scope, id);
    const policy = props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const make = (logical: TableName, constructId: string): dynamodb.Table => {
      const layout = TABLES[logical];
      const table = new dynamodb.Table(this, constructId, {
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        partitionKey: { name: layout.pk, type: dynamodb.AttributeType.STRING },
        ...('ttl' in layout ? { timeToLiveAttribute: layout.ttl } : {}),
        deletionProtection: props.protectData,
        removalPolicy: policy,
      });
      for (const index of layout.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.pk, type: dynamodb.AttributeType.STRING },
          sortKey: { name: index.sk, type: 'skType' in index && index.skType === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      // A grant on a table with indexes covers `<table>/index/*` (Query on them): its own indexes, no other table.
      if (layout.indexes.length > 0) {
        acknowledgeWildcardResource(Stack.of(this), `${arnToken(table)}/index/*`, `Query on the ${logical} table's own global secondary indexes (shared/adapters/aws/tableLayout.ts)`);
      }
      return table;
    };
    this.datasets = make('datasets', 'Datasets');
    this.nonces = make('nonces', 'Nonces');
    this.uploads = make('uploads', 'Uploads');
    this.relayJournal = make('relayJournal', 'RelayJournal');
    this.licenses = make('licenses', 'Licenses');
    this.indexer = make('indexer', 'Indexer');
    this.relayQuota = make('relayQuota', 'RelayQuota');
    this.jobs = make('jobs', 'Jobs');
  }
}
