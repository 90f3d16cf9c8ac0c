import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { InfraConfig } from './InfraConfig.js';
import { Alarms } from './constructs/Alarms.js';
import { DataBucket } from './constructs/DataBucket.js';
import { DataTables } from './constructs/DataTables.js';
import { GpuWorkers } from './constructs/GpuWorkers.js';
import { HttpApi } from './constructs/HttpApi.js';
import { KeyGate } from './constructs/KeyGate.js';
import { ChainWorkers } from './constructs/ChainWorkers.js';
import { JobQueue } from './constructs/JobQueue.js';
import { WebConsole } from './constructs/WebConsole.js';

/** Props for {@link ProvenaStack}. */
export interface ProvenaStackProps extends StackProps {
  readonly config: InfraConfig;
  /** The built web console to deploy. @default <repo>/web/dist (absent: a synth warning, nothing deployed) */
  readonly webConsoleDir?: string;
}

/**
 * One stage of Provena on AWS: tables, ciphertext bucket, KMS key gate, job queue, the HTTP API (one Lambda per
 * route of `shared/http/routes.ts`), the web console (S3 + CloudFront), the indexer and relayer Lambdas, Spot GPU training workers and alarms.
 */
export class ProvenaStack extends Stack {
  constructor(scope: Construct, id: string, props: ProvenaStackProps) {
    super(scope, id, props);
    const { config } = props;
    // Only dev may lose data on `cdk destroy`.
    const protectData = config.stage !== 'dev';

    const tables = new DataTables(this, 'Tables', { protectData });
    const data = new DataBucket(this, 'Data', { protectData });
    const keyGate = new KeyGate(this, 'KeyGate', {
      backend: config.keyGate,
      protectData,
      remoteWorkers: config.keyGateRemoteWorkers,
      ...(config.enclavePcr0 !== undefined && { enclavePcr0: config.enclavePcr0 }),
    });
    const jobs = new JobQueue(this, 'Jobs', { leaseSeconds: config.jobLeaseSeconds });
    const chain = new ChainWorkers(this, 'Chain', {
      stage: config.stage,
      tables,
      chainRpcUrl: config.chainRpcUrl,
      chainId: config.chainId,
      contracts: config.contracts,
      relayerLowBalanceWei: config.relayerLowBalanceWei,
      indexerMaxLagBlocks: config.indexerMaxLagBlocks,
      protectData,
      ...(config.relayerSecretArn !== undefined && config.relayerAddress !== undefined && { relayer: { secretArn: config.relayerSecretArn, address: config.relayerAddress } }),
    });
    const api = new HttpApi(this, 'Http', {
      stage: config.stage,
      tables,
      bucket: data.bucket,
      keyGate,
      litNetwork: config.litNetwork,
      ...(config.litActionCid !== undefined && { litActionCid: config.litActionCid }),
      ...(config.litWalletSecretArn !== undefined && { litWalletSecretArn: config.litWalletSecretArn }),
      ...(config.litCapacityDelegationAuthSig !== undefined && { litCapacityDelegationAuthSig: config.litCapacityDelegationAuthSig }),
      jobQueue: jobs.queue,
      workerOperators: config.workerOperators,
      jobLeaseSeconds: config.jobLeaseSeconds,
      chainRpcUrl: config.chainRpcUrl,
      chainId: config.chainId,
      chainName: config.chainName,
      contracts: config.contracts,
      kuboUrl: config.kuboUrl,
      ...(chain.relayQueue !== undefined && config.relayerAddress !== undefined && { relay: { queue: chain.relayQueue, address: config.relayerAddress } }),
      protectData,
    });
    const web = new WebConsole(this, 'Web', {
      apiUrl: api.url,
      protectData,
      ...(props.webConsoleDir !== undefined && { sourceDir: props.webConsoleDir }),
    });
    const gpu = new GpuWorkers(this, 'Gpu', {
      production: protectData,
      enclave: { cpuCount: config.enclaveCpuCount, memoryMib: config.enclaveMemoryMib, debugMode: config.enclaveDebugMode },
      ...(config.enclavePcr0 !== undefined && { enclavePcr0: config.enclavePcr0 }),
      ...(config.gpuEifS3Uri !== undefined && { eifS3Uri: config.gpuEifS3Uri }),
      ...(config.workerOperatorKeyCiphertext !== undefined && { operatorKeyCiphertext: config.workerOperatorKeyCiphertext }),
      stage: config.stage,
      instanceTypes: config.gpuInstanceTypes,
      maxCapacity: config.gpuMaxCapacity,
      ...(config.gpuMaxSpotPrice !== undefined && { maxSpotPrice: config.gpuMaxSpotPrice }),
      ...(config.gpuAgentS3Uri !== undefined && { agentS3Uri: config.gpuAgentS3Uri }),
      dataBucket: data.bucket,
      jobQueue: jobs,
      apiUrl: api.url,
      agentEnv: {
        PROVENA_CHAIN_RPC_URL: config.chainRpcUrl,
        PROVENA_CHAIN_ID: String(config.chainId),
        PROVENA_CONTRACTS: JSON.stringify(config.contracts),
        PROVENA_KEY_GATE: config.keyGate,
        PROVENA_LIT_NETWORK: config.litNetwork,
        ...(config.enclavePcr0 !== undefined && { PROVENA_ENCLAVE_PCR0: config.enclavePcr0 }),
      },
    });
    new Alarms(this, 'Alarms', {
      api: api.api,
      deadLetterQueue: jobs.deadLetterQueue,
      functions: [...api.functions.values(), chain.indexer, ...(chain.relayer ? [chain.relayer] : [])],
      more: chain.alarms,
      ...(config.alarmEmail !== undefined && { email: config.alarmEmail }),
    });

    const out = (id: string, value: string, description: string): CfnOutput => new CfnOutput(this, id, { value, description });
    out('ApiUrl', api.url, 'API base URL');
    out('ConsoleUrl', web.url, 'Web console (CloudFront); its config.json names the ApiUrl');
    out('DatasetsTableName', tables.datasets.tableName, 'PROVENA_TABLE_DATASETS');
    out('NoncesTableName', tables.nonces.tableName, 'PROVENA_TABLE_NONCES');
    out('UploadsTableName', tables.uploads.tableName, 'PROVENA_TABLE_UPLOADS');
    out('DataBucketName', data.bucket.bucketName, 'PROVENA_BUCKET_DATA');
    out('JobsTableName', tables.jobs.tableName, 'PROVENA_TABLE_JOBS');
    out('JobsQueueUrl', jobs.queue.queueUrl, 'PROVENA_JOB_QUEUE_URL');
    out('KeyGateKeyArn', keyGate.key.keyArn, 'PROVENA_KEY_GATE_KEY_ARN: KMS key wrapping dataset keys');
    out('KeyGateInboxKeyArn', keyGate.inboxKey.keyArn, 'PROVENA_KEY_GATE_INBOX_KEY_ARN: owners seal data keys to its public key');
    out('WorkerOperatorKeyArn', gpu.operatorKey.keyArn, 'Seal the worker operator key under it: PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT');
    if (chain.relayQueue !== undefined) out('RelayQueueUrl', chain.relayQueue.queueUrl, 'PROVENA_RELAY_QUEUE_URL');
  }
}
