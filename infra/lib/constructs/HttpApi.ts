import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotations, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { z } from 'zod';
import { ApiConfigSchema } from '../../../shared/config.js';
import type { RouteAccess, RouteDefinition } from '../../../shared/http/route.js';
import { routeList, type RouteName } from '../../../shared/http/routes.js';
import type { KeyGate } from './KeyGate.js';
import { provenaFunction, repoRoot } from './provenaFunction.js';
import { acknowledge, acknowledgeWildcardResource, arnToken } from '../nag.js';

/**
 * The Lit SDK packages the Lit gate's adapters load with a computed `import()` (shared/adapters/lit): installed
 * beside the wrap and release Lambdas' bundles when the gate is `lit` (litGateStack.test.ts keeps the list whole).
 */
export const LIT_SDK_MODULES: readonly string[] = [
  '@lit-protocol/lit-node-client',
  '@lit-protocol/access-control-conditions',
  '@lit-protocol/auth-helpers',
  '@lit-protocol/constants',
];

export { repoRoot };

/** Prefix of the ciphertext objects the upload routes create (`datasets/<id>/v<n>/<uploadId>.enc`). */
export const UPLOAD_OBJECT_PREFIX = 'datasets/';

/** Prefix of job artifacts (checkpoints, models): `jobs/{jobId}/…` (shared/schemas/job.ts). */
export const ARTIFACT_OBJECT_PREFIX = 'jobs/';

/**
 * Job settings the handlers read that the jobs lane adds to `ApiConfigSchema` (shared/config.ts); named here
 * until then so the synth check below does not refuse them. Each is set on every function.
 */
const JOB_ENV_NAMES = ['PROVENA_JOB_QUEUE_URL', 'PROVENA_WORKER_OPERATORS', 'PROVENA_JOB_LEASE_SECONDS'] as const;

/** Env names the handlers read (`ApiConfigSchema`); AWS_REGION is set by Lambda itself and reserved. */
type ApiEnvName = Exclude<keyof z.input<typeof ApiConfigSchema>, 'AWS_REGION'>;

/** Props for {@link HttpApi}. */
export interface HttpApiProps {
  readonly stage: string;
  // Concrete CDK classes, not I* interfaces: CDK's classes don't satisfy its interfaces under
  // exactOptionalPropertyTypes (optional members typed `T | undefined`).
  readonly tables: {
    readonly datasets: dynamodb.Table;
    readonly nonces: dynamodb.Table;
    readonly uploads: dynamodb.Table;
    readonly relayJournal: dynamodb.Table;
    readonly licenses: dynamodb.Table;
    readonly indexer: dynamodb.Table;
    readonly relayQuota: dynamodb.Table;
    readonly jobs: dynamodb.Table;
  };
  /** The training-job queue: `submitJob` sends, the lease routes consume on the worker's behalf. */
  readonly jobQueue: sqs.Queue;
  /**
   * Worker operator addresses (`PROVENA_WORKER_OPERATORS`, comma-separated): the keys whose signed lease
   * requests the API accepts. Empty: no worker can lease.
   */
  readonly workerOperators?: readonly string[];
  /** `PROVENA_JOB_LEASE_SECONDS`: a lease's length, also the queue's visibility timeout. @default 900 */
  readonly jobLeaseSeconds?: number;
  readonly bucket: s3.Bucket;
  /** Its backend becomes `PROVENA_KEY_GATE` (`kms` or `lit`: never `embedded` on AWS). */
  readonly keyGate: KeyGate;
  /** The Lit network, passed to the API when the gate is `lit` (PROVENA_LIT_NETWORK). */
  readonly litNetwork?: string;
  /** The pinned release Lit Action's CID, passed when the gate is `lit` (PROVENA_LIT_ACTION_CID). */
  readonly litActionCid?: string;
  /**
   * The Lit gate wallet's secret (PROVENA_LIT_WALLET_KEY takes its ARN; the API reads it once at cold start): only
   * the key-gate routes may read it.
   */
  readonly litWalletSecretArn?: string;
  /** The Capacity Credits delegation to that wallet (PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG): key-gate routes only. */
  readonly litCapacityDelegationAuthSig?: string;
  readonly chainRpcUrl: string;
  readonly chainId: number;
  /** The chain's name in access conditions (`PROVENA_CHAIN_NAME`). */
  readonly chainName: string;
  readonly contracts: Readonly<Record<string, string>>;
  readonly kuboUrl: string;
  /**
   * The relayer's FIFO queue and key address (ChainWorkers). Routes that relay (`relayerSecret: 'read'`) get
   * SendMessage on it and `PROVENA_RELAY_QUEUE_URL` / `PROVENA_RELAYER_ADDRESS`; only the queue's consumer reads
   * the key's secret. Unset: a synth warning, and relaying routes cannot relay.
   */
  readonly relay?: { readonly queue: sqs.Queue; readonly address: string };
  /** Lifetime of presigned upload URLs. @default 3600 */
  readonly uploadUrlTtlSeconds?: number;
  /** Steady-state requests per second across the stage. @default 50 */
  readonly throttleRateLimit?: number;
  /** @default 100 */
  readonly throttleBurstLimit?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** `true` outside dev: RETAIN log groups. */
  readonly protectData: boolean;
}


/** Stand-in entry for a handler file that does not exist yet; only used when this stack is not bundled. */
const UNBUNDLED_STANDIN = fileURLToPath(import.meta.url);

/**
 * The public API: an API Gateway HTTP API (payload v2) with one `NodejsFunction` per entry of the route
 * table (`shared/http/routes.ts`), the same handler modules the embedded server dispatches to.
 */
/** Whether a route builds the Lit key gate (wrap and release do): it gets the Lit SDK, the wallet and its delegation. */
function buildsLitGate(access: RouteAccess, props: HttpApiProps): boolean {
  return props.keyGate.backend === 'lit' && (access.keyGate === 'wrap' || access.keyGate === 'release');
}

export class HttpApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  /** Lambda per route name. */
  readonly functions: ReadonlyMap<RouteName, nodejs.NodejsFunction>;

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    const protect = props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    const apiEnv = {
      PROVENA_LOG_LEVEL: props.stage === 'dev' ? 'DEBUG' : 'INFO',
      PROVENA_TABLE_DATASETS: props.tables.datasets.tableName,
      PROVENA_TABLE_NONCES: props.tables.nonces.tableName,
      PROVENA_TABLE_UPLOADS: props.tables.uploads.tableName,
      PROVENA_TABLE_RELAYER: props.tables.relayJournal.tableName,
      PROVENA_TABLE_LICENSES: props.tables.licenses.tableName,
      PROVENA_TABLE_INDEXER: props.tables.indexer.tableName,
      PROVENA_TABLE_RELAY_QUOTA: props.tables.relayQuota.tableName,
      PROVENA_TABLE_JOBS: props.tables.jobs.tableName,
      PROVENA_BUCKET_DATA: props.bucket.bucketName,
      PROVENA_CONTENT_STORE: 'kubo',
      PROVENA_KUBO_URL: props.kuboUrl,
      PROVENA_CHAIN_RPC_URL: props.chainRpcUrl,
      PROVENA_CHAIN_ID: String(props.chainId),
      PROVENA_CHAIN_NAME: props.chainName,
      PROVENA_CONTRACTS: JSON.stringify(props.contracts),
      PROVENA_KEY_GATE: props.keyGate.backend,
      PROVENA_KEY_GATE_KEY_ARN: props.keyGate.key.keyArn,
      PROVENA_KEY_GATE_INBOX_KEY_ARN: props.keyGate.inboxKey.keyArn,
      ...(props.keyGate.backend === 'lit' && props.litNetwork !== undefined ? { PROVENA_LIT_NETWORK: props.litNetwork } : {}),
      ...(props.keyGate.backend === 'lit' && props.litActionCid !== undefined ? { PROVENA_LIT_ACTION_CID: props.litActionCid } : {}),
      ...(props.keyGate.backend === 'lit' && props.litWalletSecretArn !== undefined ? { PROVENA_LIT_WALLET_KEY: props.litWalletSecretArn } : {}),
      PROVENA_UPLOAD_URL_TTL_SECONDS: String(props.uploadUrlTtlSeconds ?? 3600),
    } satisfies Partial<Record<ApiEnvName, string>>;
    // The HMAC key of page cursors: 64 hex digits generated by Secrets Manager, resolved by CloudFormation at
    // deploy (a dynamic reference: the value is in no template). One value for every function.
    const cursorSecret = new secretsmanager.Secret(this, 'CursorSecret', {
      description: `Provena API (${props.stage}): HMAC key of pagination cursors`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false, excludeCharacters: 'ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ' },
      removalPolicy: protect,
    });
    acknowledge(
      cursorSecret,
      'AwsSolutions-SMG4',
      'HMAC key of page cursors only (no credential): rotating it would just invalidate open cursors; rotate by replacing the secret',
    );
    const jobEnv: Record<(typeof JOB_ENV_NAMES)[number], string> = {
      PROVENA_JOB_QUEUE_URL: props.jobQueue.queueUrl,
      PROVENA_WORKER_OPERATORS: (props.workerOperators ?? []).join(','),
      PROVENA_JOB_LEASE_SECONDS: String(props.jobLeaseSeconds ?? 900),
    };
    // Fail at synth, not at the first cold start, if the handlers' own schema would reject this env.
    // (Tokens such as table names are long placeholder strings here, which the schema accepts; the cursor secret
    // is checked as the 64 hex digits Secrets Manager generates.)
    // The queue URL is a token until deploy: checked as the shape SQS gives it.
    const queueUrlForCheck = Token.isUnresolved(jobEnv.PROVENA_JOB_QUEUE_URL) ? 'https://sqs.us-east-1.amazonaws.com/000000000000/provena-jobs' : jobEnv.PROVENA_JOB_QUEUE_URL;
    const check = ApiConfigSchema.safeParse({ ...apiEnv, ...jobEnv, PROVENA_JOB_QUEUE_URL: queueUrlForCheck, PROVENA_CURSOR_SECRET: '0'.repeat(64), AWS_REGION: 'synth' });
    if (!check.success) {
      throw new Error(`The API Lambda environment fails ApiConfigSchema:\n${check.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
    }
    const environment: Record<string, string> = {
      ...apiEnv,
      ...jobEnv,
      PROVENA_CURSOR_SECRET: cursorSecret.secretValue.unsafeUnwrap(),
    };
    if ((props.workerOperators ?? []).length === 0) {
      Annotations.of(this).addWarningV2(
        'provena:worker-operators-missing',
        'PROVENA_WORKER_OPERATORS is empty: no worker can lease a job, so submitted jobs stay queued.',
      );
    }
    if (props.relay === undefined) {
      Annotations.of(this).addWarningV2(
        'provena:relayer-secret-missing',
        'PROVENA_RELAYER_SECRET_ARN is unset: no relayer, so registrations, claims and job reports cannot be relayed on chain.',
      );
    }

    const bundled = Stack.of(this).bundlingRequired;
    const fns = new Map<RouteName, nodejs.NodejsFunction>();
    for (const route of routeList) {
      let entry = path.join(repoRoot, route.handler);
      if (!existsSync(entry)) {
        if (bundled) throw new Error(`Route ${route.name}: handler file ${route.handler} does not exist`);
        entry = UNBUNDLED_STANDIN;
      }
      const fn = provenaFunction(this, `${route.name}Fn`, {
        entry,
        description: `${route.method} ${route.path}: ${route.summary}`,
        environment: this.environmentOf(route.access, environment, props),
        serviceName: 'provena-api',
        logLevel: apiEnv.PROVENA_LOG_LEVEL,
        logRetention: retention,
        removalPolicy: protect,
        ...(route.lambda?.memoryMb !== undefined && { memoryMb: route.lambda.memoryMb }),
        ...(route.lambda?.timeoutSeconds !== undefined && { timeoutSeconds: route.lambda.timeoutSeconds }),
        ...(buildsLitGate(route.access, props) && { nodeModules: LIT_SDK_MODULES }),
      });
      this.grant(fn, route.access, props);
      fns.set(route.name, fn);
    }
    this.functions = fns;
    this.acknowledgeFindings(props);

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: `Provena API (${props.stage})`,
      createDefaultStage: false,
      corsPreflight: {
        // Requests are authorized by an EIP-712 signature in headers, not cookies: any origin, no credentials.
        allowOrigins: ['*'],
        allowMethods: [apigwv2.CorsHttpMethod.ANY],
        allowHeaders: ['*'],
        exposeHeaders: ['*'],
        maxAge: Duration.hours(1),
      },
    });
    const httpRoutes: apigwv2.HttpRoute[] = [];
    for (const route of routeList) {
      const fn = fns.get(route.name);
      if (fn === undefined) throw new Error(`no function for ${route.name}`);
      httpRoutes.push(...this.api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${route.name}Integration`, fn, {
          payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
        }),
      }));
    }

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention, removalPolicy: protect });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRateLimit ?? 50, burstLimit: props.throttleBurstLimit ?? 100 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            time: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    // Routes with their own limits (routes.ts `rateLimit.total`) get them as route throttling; the rest share the
    // stage default. API Gateway HTTP APIs throttle per route, never per client (see RouteRateLimit).
    // (CloudFormation's own names: a map assigned to the L1 property after construction is not renamed by CDK.)
    const routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
    for (const route of routeList) {
      const limit = (route as RouteDefinition).rateLimit?.total;
      if (limit) routeSettings[`${route.method} ${route.path}`] = { ThrottlingRateLimit: limit.ratePerSecond, ThrottlingBurstLimit: limit.burst };
    }
    if (Object.keys(routeSettings).length) {
      (this.stage.node.defaultChild as apigwv2.CfnStage).addPropertyOverride('RouteSettings', routeSettings);
      // A route setting names its route key: the routes must exist before the stage that throttles them.
      for (const r of httpRoutes) this.stage.node.addDependency(r);
    }
  }

  /** The API's base URL (the `$default` stage has no path prefix). */
  get url(): string {
    const u = this.stage.url;
    if (u === undefined) throw new Error('stage has no URL');
    return u;
  }

  /** cdk-nag findings that are decisions, with their reasons. */
  private acknowledgeFindings(props: HttpApiProps): void {
    acknowledge(
      this,
      'AwsSolutions-APIG4',
      'No API Gateway authorizer by design: signed routes carry an EIP-712 request signature that the handler verifies (shared/auth), releaseKey a signed single-use key request; the other routes are public reads',
    );
    acknowledgeWildcardResource(this, `${arnToken(props.bucket)}/${UPLOAD_OBJECT_PREFIX}*`, 'Dataset ciphertext objects are per listing and version (datasets/{id}/v{n}/{upload}.enc): the prefix is the narrowest static scope');
    acknowledgeWildcardResource(this, `${arnToken(props.bucket)}/${ARTIFACT_OBJECT_PREFIX}*`, 'Job artifacts are per job (jobs/{jobId}/...), known only at request time: the prefix is the narrowest static scope');
  }

  /** The shared environment, plus the relay queue for the routes that relay. */
  private environmentOf(access: RouteAccess, shared: Record<string, string>, props: HttpApiProps): Record<string, string> {
    // The delegation (about 1 KB of the 4 KB a Lambda's environment may hold) goes only where the gate is built.
    const delegation = buildsLitGate(access, props) ? props.litCapacityDelegationAuthSig : undefined;
    const env = delegation === undefined ? shared : { ...shared, ...({ PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG: delegation } satisfies Partial<Record<ApiEnvName, string>>) };
    if (access.relayerSecret !== 'read' || props.relay === undefined) return env;
    return { ...env, PROVENA_RELAY_QUEUE_URL: props.relay.queue.queueUrl, PROVENA_RELAYER_ADDRESS: props.relay.address };
  }

  private grant(fn: lambda.Function, access: RouteAccess, props: HttpApiProps): void {
    if (access.datasets === 'read') props.tables.datasets.grantReadData(fn);
    if (access.datasets === 'write') props.tables.datasets.grantReadWriteData(fn);
    // A nonce is recorded with a conditional put (or update) and never scanned or deleted (TTL removes it).
    if (access.nonces === 'write') props.tables.nonces.grant(fn, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    if (access.nonces === 'describe') props.tables.nonces.grant(fn, 'dynamodb:DescribeTable');
    // The chain index is written by the indexer only; routes read licenses (GetItem, index queries) and the cursor.
    if (access.chainIndex === 'read') {
      props.tables.licenses.grant(fn, 'dynamodb:GetItem', 'dynamodb:Query');
      props.tables.indexer.grant(fn, 'dynamodb:GetItem');
    }
    // HeadBucket is authorized by s3:ListBucket on the bucket itself (no object access).
    if (access.bucket === 'probe') {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] }));
    }
    if (access.bucket === 'upload') {
      // Presigned PUTs of ciphertext carry the Lambda's authority: PutObject under the upload prefix, and the
      // bucket key's GenerateDataKey for SSE-KMS.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [props.bucket.arnForObjects(`${UPLOAD_OBJECT_PREFIX}*`)] }));
      props.bucket.encryptionKey?.grant(fn, 'kms:GenerateDataKey');
    }
    const multipart = {
      multipartStart: ['s3:PutObject'],
      multipartResume: ['s3:ListMultipartUploadParts', 's3:PutObject'],
      multipartList: ['s3:ListMultipartUploadParts'],
      multipartComplete: ['s3:ListMultipartUploadParts', 's3:PutObject', 's3:GetObject'],
    } as const;
    if (access.bucket === 'download') {
      // A presigned GET is authorized as the Lambda at use time; reading an SSE-KMS object needs kms:Decrypt.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.bucket.arnForObjects(`${UPLOAD_OBJECT_PREFIX}*`)] }));
      props.bucket.encryptionKey?.grant(fn, 'kms:Decrypt');
    }
    if (access.bucket !== undefined && access.bucket in multipart) {
      const actions = multipart[access.bucket as keyof typeof multipart];
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...actions], resources: [props.bucket.arnForObjects(`${UPLOAD_OBJECT_PREFIX}*`)] }));
      // Listing parts reads no object data: no key use.
      if (access.bucket !== 'multipartList') props.bucket.encryptionKey?.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');
    }
    // Upload sessions are created with a conditional put, read consistently and marked completed; an owner's open
    // ones are queried on the sparse openByOwner index (Table.grant adds `index/*`); never scanned or deleted.
    if (access.uploads === 'describe') props.tables.uploads.grant(fn, 'dynamodb:DescribeTable');
    if (access.uploads === 'read') props.tables.uploads.grant(fn, 'dynamodb:GetItem');
    if (access.uploads === 'list') props.tables.uploads.grant(fn, 'dynamodb:Query');
    if (access.uploads === 'write') props.tables.uploads.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    if (access.keyGate === 'publicKey') props.keyGate.grantPublicKey(fn);
    if (access.keyGate === 'wrap') props.keyGate.grantWrap(fn);
    if (access.keyGate === 'release') props.keyGate.grantRelease(fn);
    // The Lit gate's wallet signs its Lit session (wrap and release build the gate); no other route reads it.
    if (buildsLitGate(access, props) && props.litWalletSecretArn !== undefined) {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [props.litWalletSecretArn] }));
    }
    if (access.relayJournal === 'write') props.tables.relayJournal.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query');
    // Quota windows are read consistently and replaced conditionally; budgets raised and refunded with ADD.
    if (access.relayQuota === 'write') props.tables.relayQuota.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    // Relaying routes enqueue the call; the relayer consumer alone holds the key (one writer per key).
    if (access.relayerSecret === 'read' && props.relay !== undefined) props.relay.queue.grant(fn, 'sqs:SendMessage');
    this.grantJobs(fn, access, props);
  }

  /** The job kinds: the jobs table, the job queue, artifacts under `jobs/`, the content store. */
  private grantJobs(fn: lambda.Function, access: RouteAccess, props: HttpApiProps): void {
    // Jobs are created with a conditional put and moved with conditional updates (lease, fencing token); never
    // scanned or deleted. Query covers the byHolder/byStatus indexes (Table.grant adds `index/*`).
    if (access.jobs === 'read') props.tables.jobs.grant(fn, 'dynamodb:GetItem', 'dynamodb:Query');
    if (access.jobs === 'write') props.tables.jobs.grant(fn, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    if (access.jobQueue === 'send') props.jobQueue.grant(fn, 'sqs:SendMessage', 'sqs:GetQueueAttributes');
    // A lease receives a message and keeps it invisible (heartbeat); the result or a release deletes it.
    if (access.jobQueue === 'consume') props.jobQueue.grant(fn, 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes');
    const artifacts = props.bucket.arnForObjects(`${ARTIFACT_OBJECT_PREFIX}*`);
    if (access.artifacts === 'read') {
      // Presigned GETs of checkpoints and models are authorized as this Lambda at use time.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [artifacts] }));
      props.bucket.encryptionKey?.grant(fn, 'kms:Decrypt');
    }
    if (access.artifacts === 'write') {
      // Presigned PUT (and its multipart form) plus HeadObject (s3:GetObject) to check a committed object's size.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [artifacts] }));
      props.bucket.encryptionKey?.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');
    }
    // `content: write` stores receipts on the Kubo node at PROVENA_KUBO_URL (HTTP, its own authentication): no
    // AWS permission exists for it, so nothing is granted; the route table records the decision.
  }
}

