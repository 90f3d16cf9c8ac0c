import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

/** The repository root: handler paths are relative to it. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** esbuild's ESM output has no `require`; some CommonJS deps (ethers' deps, Powertools) still call it. */
const REQUIRE_BANNER = "import { createRequire as __provenaCreateRequire } from 'node:module'; const require = __provenaCreateRequire(import.meta.url);";

/** Settings of one Provena Lambda. */
export interface ProvenaFunctionProps {
  /** Absolute path of the handler module (exports `handler`). */
  readonly entry: string;
  readonly description: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly serviceName: string;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** @default 512 */
  readonly memoryMb?: number;
  /** @default 10 */
  readonly timeoutSeconds?: number;
  readonly logLevel: string;
  /**
   * Packages installed beside the bundle instead of bundled (esbuild cannot follow the adapters' computed
   * `import()` of optional SDKs): the Lit SDK for the Lit gate's Lambdas.
   */
  readonly nodeModules?: readonly string[];
}

/**
 * One Lambda as every Provena function is built: Node.js 22 on arm64, ESM bundle (minified, source maps, the
 * pinned AWS SDK bundled), its own log group with retention, Powertools' service name and log level.
 */
export function provenaFunction(scope: Construct, id: string, props: ProvenaFunctionProps): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: props.logRetention, removalPolicy: props.removalPolicy });
  // Its own role with only its own log group's write permission, instead of AWSLambdaBasicExecutionRole (which
  // may write to any log group in the account).
  const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: props.description.slice(0, 1000) });
  role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
  const fn = new nodejs.NodejsFunction(scope, id, {
    role,
    entry: props.entry,
    handler: 'handler',
    projectRoot: repoRoot,
    depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memoryMb ?? 512,
    timeout: Duration.seconds(props.timeoutSeconds ?? 10),
    // Lambda caps a description at 256 characters; the route's full summary lives in the OpenAPI document.
    description: props.description.length > 256 ? `${props.description.slice(0, 255)}…` : props.description,
    environment: {
      ...props.environment,
      POWERTOOLS_SERVICE_NAME: props.serviceName,
      POWERTOOLS_LOG_LEVEL: props.logLevel,
      NODE_OPTIONS: '--enable-source-maps',
    },
    logGroup,
    bundling: {
      format: nodejs.OutputFormat.ESM,
      target: 'node22',
      mainFields: ['module', 'main'],
      banner: REQUIRE_BANNER,
      minify: true,
      sourceMap: true,
      // Folds the composition's embedded-only branches (functions/_lib/base.ts, notInLambdaBundle) to constants,
      // so the local UnixFS store and the master-key-file gate are in no Lambda bundle.
      define: { 'process.env.PROVENA_BUNDLE': JSON.stringify('lambda') },
      // Bundle the pinned AWS SDK rather than trust the runtime's copy: the runtime's version drifts, and
      // helpers such as s3-request-presigner and util-dynamodb are not guaranteed to be there.
      externalModules: [],
      ...(props.nodeModules !== undefined && props.nodeModules.length > 0 && { nodeModules: [...props.nodeModules] }),
    },
  });
  // nodejs22.x, not the newest runtime: the bundle targets node22 and the project runs and tests on Node 20/22;
  // moving to nodejs24.x is a deliberate upgrade with its own test run, not a silent default.
  acknowledge(fn, 'AwsSolutions-L1', 'Runtime pinned to nodejs22.x, the version the bundle targets and the project tests on');
  return fn;
}
