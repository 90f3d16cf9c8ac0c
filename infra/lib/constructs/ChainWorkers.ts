import path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { z } from 'zod';
import { INDEXER_METRICS, RELAYER_METRICS } from '../../../shared/adapters/aws/metrics.js';
import { IndexerConfigSchema, RelayerConsumerConfigSchema } from '../../../shared/config.js';
import { provenaFunction, repoRoot } from './provenaFunction.js';

/** Fails at synth, not at the first cold start, if the handler's own schema would refuse `env`. */
function checkEnv(what: string, schema: z.ZodType, env: Record<string, string>): void {
  // Tokens (table names) are long placeholder strings here, which the schemas accept.
  const r = schema.safeParse({ ...env, AWS_REGION: 'synth' });
  if (!r.success) throw new Error(`The ${what} Lambda environment fails its schema:\n${r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
}

/** Props for {@link ChainWorkers}. */
export interface ChainWorkersProps {
  readonly stage: string;
  readonly tables: { readonly relayJournal: dynamodb.Table; readonly licenses: dynamodb.Table; readonly indexer: dynamodb.Table };
  readonly chainRpcUrl: string;
  readonly chainId: number;
  readonly contracts: Readonly<Record<string, string>>;
  /** The relayer: its key's secret (full ARN) and its address (the FIFO message group). Unset: no consumer. */
  readonly relayer?: { readonly secretArn: string; readonly address: string };
  /** Alarm when the relayer's balance falls under this (wei, decimal). */
  readonly relayerLowBalanceWei: string;
  /** Alarm when the indexer is more than this many blocks behind the confirmation depth. */
  readonly indexerMaxLagBlocks: number;
  readonly protectData: boolean;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The chain side of the backend, off the request path:
 *
 * - **Indexer**: `functions/indexer/tick.ts` every minute (EventBridge); each run indexes confirmed blocks until the
 *   head or 5 s before its timeout, and emits `Provena/Indexer LagBlocks` (CloudWatch embedded metric format).
 *   Overlapping runs are safe (the cursor is written conditionally). Alarm: lag over the limit, or no data.
 * - **Relayer**: an SQS FIFO queue (`PROVENA_RELAY_QUEUE_URL`), one message group per relayer key, drained by
 *   `functions/relayer/consume.ts` with at most one concurrent batch per group: one writer per key across all
 *   containers. The consumer reads the key from Secrets Manager at cold start. A schedule posts `{"tick": true}`
 *   every minute so stuck transactions are bumped while no calls arrive. Alarms: balance under the threshold,
 *   the FIFO dead-letter queue not empty.
 */
export class ChainWorkers extends Construct {
  readonly indexer: nodejs.NodejsFunction;
  readonly relayer: nodejs.NodejsFunction | undefined;
  readonly relayQueue: sqs.Queue | undefined;
  /** Alarms this construct defines (the stack wires them to its topic). */
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ChainWorkersProps) {
    super(scope, id);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const removalPolicy = props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logLevel = props.stage === 'dev' ? 'DEBUG' : 'INFO';
    const chainEnv = {
      PROVENA_LOG_LEVEL: logLevel,
      PROVENA_CHAIN_RPC_URL: props.chainRpcUrl,
      PROVENA_CHAIN_ID: String(props.chainId),
    };

    const indexerEnv = {
      ...chainEnv,
      PROVENA_CONTRACTS: JSON.stringify(props.contracts),
      PROVENA_TABLE_LICENSES: props.tables.licenses.tableName,
      PROVENA_TABLE_INDEXER: props.tables.indexer.tableName,
      PROVENA_INDEXER_MAX_LAG_BLOCKS: String(props.indexerMaxLagBlocks),
      PROVENA_STAGE: props.stage,
    };
    checkEnv('indexer', IndexerConfigSchema, indexerEnv);
    this.indexer = provenaFunction(this, 'IndexerFn', {
      entry: path.join(repoRoot, 'functions/indexer/tick.ts'),
      description: 'Chain indexer: licenses and jobs from LicenseManager events into the chain index',
      environment: indexerEnv,
      serviceName: 'provena-indexer',
      logLevel,
      logRetention: retention,
      removalPolicy,
      timeoutSeconds: 55,
    });
    // The index is rebuilt from events: put, update, delete (reorg rollback), query by block; the cursor likewise.
    props.tables.licenses.grant(this.indexer, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query');
    props.tables.indexer.grant(this.indexer, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    new events.Rule(this, 'IndexerSchedule', {
      description: 'Provena indexer tick',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.indexer, { retryAttempts: 0 })],
    });
    this.alarms.push(
      new cloudwatch.Alarm(this, 'IndexerLag', {
        alarmDescription: `The chain indexer is more than ${props.indexerMaxLagBlocks} blocks behind, or not reporting`,
        metric: new cloudwatch.Metric({
          namespace: INDEXER_METRICS.namespace,
          metricName: INDEXER_METRICS.lagBlocks,
          dimensionsMap: { stage: props.stage },
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: props.indexerMaxLagBlocks,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        // No data means the indexer is not running: that is the failure to be woken for.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    );

    if (props.relayer === undefined) {
      this.relayer = undefined;
      this.relayQueue = undefined;
      return;
    }
    const relayDlq = new sqs.Queue(this, 'RelayDlq', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.relayQueue = new sqs.Queue(this, 'RelayQueue', {
      fifo: true,
      // Deduplication by the call's idempotency key (the producer sets MessageDeduplicationId).
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the consumer's timeout, as AWS recommends for event sources.
      visibilityTimeout: Duration.minutes(6),
      deadLetterQueue: { queue: relayDlq, maxReceiveCount: 5 },
    });
    const relayerEnv = {
      ...chainEnv,
      PROVENA_TABLE_RELAYER: props.tables.relayJournal.tableName,
      PROVENA_RELAYER_SECRET_ARN: props.relayer.secretArn,
      PROVENA_STAGE: props.stage,
      PROVENA_RELAYER_LOW_BALANCE_WEI: props.relayerLowBalanceWei,
    };
    checkEnv('relayer consumer', RelayerConsumerConfigSchema, relayerEnv);
    this.relayer = provenaFunction(this, 'RelayerFn', {
      entry: path.join(repoRoot, 'functions/relayer/consume.ts'),
      description: 'Relayer: the single writer of the relayer key (SQS FIFO consumer)',
      environment: relayerEnv,
      serviceName: 'provena-relayer',
      logLevel,
      logRetention: retention,
      removalPolicy,
      timeoutSeconds: 60,
    });
    this.relayer.addEventSource(new SqsEventSource(this.relayQueue, { batchSize: 10, reportBatchItemFailures: true }));
    this.relayer.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [props.relayer.secretArn] }));
    props.tables.relayJournal.grant(this.relayer, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query');
    new events.Rule(this, 'RelayerTick', {
      description: 'Provena relayer monitor tick (settle mined calls, bump stuck ones)',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.SqsQueue(this.relayQueue, {
          message: events.RuleTargetInput.fromObject({ tick: true }),
          // The calls' own group: a tick never runs beside a batch of calls (one writer per key).
          messageGroupId: props.relayer.address,
        }),
      ],
    });
    this.alarms.push(
      new cloudwatch.Alarm(this, 'RelayerBalanceLow', {
        alarmDescription: 'The relayer account is running out of gas money: top it up',
        metric: new cloudwatch.Metric({
          namespace: RELAYER_METRICS.namespace,
          metricName: RELAYER_METRICS.balanceBelowThreshold,
          dimensionsMap: { stage: props.stage },
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'RelayDlqNotEmpty', {
        alarmDescription: 'Relayed calls failed five times and were dead-lettered',
        metric: relayDlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}
