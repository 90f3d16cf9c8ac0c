import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { InfraConfig } from './InfraConfig.js';
import { Alarms } from './constructs/Alarms.js';
import { DataBucket } from './constructs/DataBucket.js';
import { DataTables } from './constructs/DataTables.js';
import { GpuWorkers } from './constructs/GpuWorkers.js';
import { HttpApi } from './constructs/HttpApi.js';
import { KeyGate } from './constructs/KeyGate.js';

/** Props for {@link ProvenaStack}. */
export interface ProvenaStackProps extends StackProps {
  readonly config: InfraConfig;
}

/**
 * One stage of Provena on AWS: tables, ciphertext bucket, key gate, the HTTP API (one Lambda per route of
 * `shared/http/routes.ts`), Spot GPU training workers and alarms.
 */
export class ProvenaStack extends Stack {
  constructor(scope: Construct, id: string, props: ProvenaStackProps) {
    super(scope, id, props);
    const { config } = props;
    // Only dev may lose data on `cdk destroy`.
    const protectData = config.stage !== 'dev';

    const tables = new DataTables(this, 'Tables', { protectData });
    const data = new DataBucket(this, 'Data', { protectData });
    const keyGate = new KeyGate(this, 'KeyGate', { backend: config.keyGate, protectData });
    const api = new HttpApi(this, 'Http', {
      stage: config.stage,
      tables,
      bucket: data.bucket,
      keyGate,
      chainRpcUrl: config.chainRpcUrl,
      chainId: config.chainId,
      chainName: config.chainName,
      contracts: config.contracts,
      kuboUrl: config.kuboUrl,
      ...(config.relayerSecretArn !== undefined && { relayerSecretArn: config.relayerSecretArn }),
      protectData,
    });
    const workers = new GpuWorkers(this, 'Gpu', {
      stage: config.stage,
      instanceTypes: config.gpuInstanceTypes,
      maxCapacity: config.gpuMaxCapacity,
      ...(config.gpuMaxSpotPrice !== undefined && { maxSpotPrice: config.gpuMaxSpotPrice }),
      ...(config.gpuAgentS3Uri !== undefined && { agentS3Uri: config.gpuAgentS3Uri }),
      ...(config.enclavePcr0 !== undefined && { enclavePcr0: config.enclavePcr0 }),
      dataBucket: data.bucket,
      keyGate,
      agentEnv: {
        PROVENA_CHAIN_RPC_URL: config.chainRpcUrl,
        PROVENA_CHAIN_ID: String(config.chainId),
        PROVENA_CONTRACTS: JSON.stringify(config.contracts),
        PROVENA_CONTENT_STORE: 'kubo',
        PROVENA_KUBO_URL: config.kuboUrl,
        PROVENA_KEY_GATE: config.keyGate,
        PROVENA_LIT_NETWORK: config.litNetwork,
      },
    });
    new Alarms(this, 'Alarms', {
      api: api.api,
      deadLetterQueue: workers.deadLetterQueue,
      ...(config.alarmEmail !== undefined && { email: config.alarmEmail }),
    });

    const out = (id: string, value: string, description: string): CfnOutput => new CfnOutput(this, id, { value, description });
    out('ApiUrl', api.url, 'API base URL');
    out('DatasetsTableName', tables.datasets.tableName, 'PROVENA_TABLE_DATASETS');
    out('NoncesTableName', tables.nonces.tableName, 'PROVENA_TABLE_NONCES');
    out('UploadsTableName', tables.uploads.tableName, 'PROVENA_TABLE_UPLOADS');
    out('DataBucketName', data.bucket.bucketName, 'PROVENA_BUCKET_DATA');
    out('JobsQueueUrl', workers.queue.queueUrl, 'Training jobs queue');
    out('KeyGateKeyArn', keyGate.key.keyArn, 'KMS key wrapping dataset keys');
  }
}
