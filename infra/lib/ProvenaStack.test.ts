/**
 * The stack's snapshot (asset hashes masked) plus one named assertion per security or cost rule.
 * Synthesizes once, without bundling (context `aws:cdk:bundling-stacks: []`), and reuses the Template.
 */
import { TABLES } from '../../shared/adapters/aws/tableLayout.js';
import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { routeList as routes, routes as routeTable } from '../../shared/http/routes.js';
import { readInfraConfig } from './InfraConfig.js';
import { ProvenaStack } from './ProvenaStack.js';
import { renderEnclaveInit, renderLauncher, renderUnits, WorkerLaunchSchema } from './workerLaunch.js';
import { ARTIFACT_OBJECT_PREFIX, UPLOAD_OBJECT_PREFIX } from './constructs/HttpApi.js';
import type { RouteDefinition } from '../../shared/http/route.js';
import { CONSOLE_CSP } from '../../stack/staticSite.js';
import { CONSOLE_CONFIG_FILE, parseConsoleConfig } from '../../web/src/consoleConfig.js';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Condition?: unknown };

/** The feature flags `cdk synth` runs with (cdk.json), so the test synthesizes what a deployment would. */
const cdkContext = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;
const RELAYER_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:provena/test/relayer-AbC123';
const RELAYER_ADDRESS = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const WORKER_OPERATOR = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
const OPERATOR_KEY_CIPHERTEXT = Buffer.from('a KMS CiphertextBlob of the operator key').toString('base64');
const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
/** A built console stand-in (the real web/dist may or may not exist): its deployment is part of the snapshot. */
const webDist = mkdtempSync(join(tmpdir(), 'provena-web-dist-'));
writeFileSync(join(webDist, 'index.html'), '<!doctype html><title>Provena</title>');
const stack = new ProvenaStack(app, 'Provena-test', {
  webConsoleDir: webDist,
  config: readInfraConfig({
    PROVENA_STAGE: 'test',
    PROVENA_CHAIN_RPC_URL: 'https://rpc.example.org',
    PROVENA_CHAIN_ID: '84532',
    PROVENA_CHAIN_NAME: 'baseSepolia',
    PROVENA_RELAYER_SECRET_ARN: RELAYER_SECRET_ARN,
    PROVENA_RELAYER_ADDRESS: RELAYER_ADDRESS,
    PROVENA_WORKER_OPERATORS: WORKER_OPERATOR,
    PROVENA_CONTRACTS: JSON.stringify({
      PaymentToken: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      DatasetRegistry: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      LicenseManager: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
      AttestationRegistry: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0',
      TrainingLicense: '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9',
    }),
    PROVENA_KUBO_URL: 'https://kubo.internal.example.org:5001',
    PROVENA_ENCLAVE_PCR0: 'ab'.repeat(48),
    PROVENA_GPU_AGENT_S3_URI: 's3://provena-artifacts/agent/agent-1.0.0.tar.gz',
    PROVENA_GPU_EIF_S3_URI: 's3://provena-artifacts/agent/provena-enclave-1.0.0.eif',
    PROVENA_ENCLAVE_CPU_COUNT: '4',
    PROVENA_ENCLAVE_MEMORY_MIB: '6144',
    PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT: OPERATOR_KEY_CIPHERTEXT,
  }),
});
// cdk-nag walks the construct tree (acknowledgments are construct metadata), before the template is read.
const nag = new AwsSolutionsChecks(app).validateScope(stack);
const template = Template.fromStack(stack);
const json = template.toJSON() as { Resources: Record<string, Resource> };
const resources = Object.entries(json.Resources);
const ofType = (type: string): [string, Resource][] => resources.filter(([, r]) => r.Type === type);
const props = (r: Resource): Record<string, unknown> => r.Properties ?? {};
const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/** Identity-policy statements attached to `roleLogicalId` (inline AWS::IAM::Policy resources). */
function statementsOfRole(roleLogicalId: string): Statement[] {
  return ofType('AWS::IAM::Policy')
    .filter(([, r]) => (props(r)['Roles'] as { Ref: string }[]).some((x) => x.Ref === roleLogicalId))
    .flatMap(([, r]) => (props(r)['PolicyDocument'] as { Statement: Statement[] }).Statement);
}

/** Lambda logical id per route name, via the function description `METHOD path: summary`. */
function lambdaOf(routeName: string): Resource {
  const route = routes.find((r) => r.name === routeName);
  const fn = ofType('AWS::Lambda::Function').find(([, r]) => String(props(r)['Description']).startsWith(`${route?.method} ${route?.path}:`));
  if (fn === undefined) throw new Error(`no Lambda for ${routeName}`);
  return fn[1];
}
const roleOf = (fn: Resource): string => ((props(fn)['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'])[0];
const envOf = (fn: Resource): Record<string, unknown> => (props(fn)['Environment'] as { Variables: Record<string, unknown> }).Variables;
/** Whether a statement's resources reference the resource `logicalId` (Ref / GetAtt, alone or inside a Join). */
const refersTo = (resource: unknown, logicalId: string): boolean => JSON.stringify(resource).includes(`"${logicalId}"`);
const logicalIdOf = (type: string, pred: (id: string, r: Resource) => boolean): string => {
  const found = ofType(type).filter(([id, r]) => pred(id, r));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return (found[0] as [string, Resource])[0];
};
const tableKeyedBy = (attr: string): string =>
  logicalIdOf('AWS::DynamoDB::Table', (_, t) => JSON.stringify(props(t)['KeySchema']) === JSON.stringify([{ AttributeName: attr, KeyType: 'HASH' }]));
const noncesTable = tableKeyedBy('pk');
const uploadsTable = tableKeyedBy('uploadId');
const keyGateKey = logicalIdOf('AWS::KMS::Key', (id) => id.startsWith('KeyGateKey'));
const inboxKey = logicalIdOf('AWS::KMS::Key', (id) => id.startsWith('KeyGateInboxKey'));
const jobsTable = tableKeyedBy('jobId');
const jobQueue = logicalIdOf('AWS::SQS::Queue', (id) => id.startsWith('JobsQueue'));
const relayQueue = logicalIdOf('AWS::SQS::Queue', (id) => id.startsWith('ChainRelayQueue'));
const fnByDescription = (prefix: string): Resource => {
  const found = ofType('AWS::Lambda::Function').find(([, r]) => String(props(r)['Description']).startsWith(prefix));
  if (found === undefined) throw new Error(`no Lambda described as ${prefix}`);
  return found[1];
};
const indexerFn = fnByDescription('Chain indexer');
const relayerFn = fnByDescription('Relayer:');
const dataBucket = logicalIdOf('AWS::S3::Bucket', (id) => id.startsWith('DataBucket'));
const dataBucketKey = logicalIdOf('AWS::KMS::Key', (id) => id.startsWith('DataKey'));
const uploadRoutes = ['startUpload', 'getUpload', 'listUploads', 'completeUpload'];

describe('ProvenaStack', () => {
  it('matches the snapshot with asset hashes masked', () => {
    const masked = JSON.parse(
      JSON.stringify(json)
        .replace(/[0-9a-f]{64}(\.zip|\.json)?/g, '[ASSET-HASH]')
        .replace(/"S3Key":"[^"]*"/g, '"S3Key":"[ASSET]"'),
    ) as unknown;
    expect(masked).toMatchSnapshot();
  });

  describe('data bucket', () => {
    it('blocks all public access', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      });
    });

    it('denies requests without TLS', () => {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('encrypts with SSE-KMS and a bucket key', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } },
          ],
        },
      });
    });

    it('aborts incomplete multipart uploads after 7 days', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' })]) },
      });
    });

    it('allows presigned PUT from any origin and exposes ETag', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedMethods: ['PUT'], AllowedOrigins: ['*'], ExposedHeaders: ['ETag'] })] },
      });
    });
  });

  describe('tables', () => {
    it('creates the jobs table from its layout: by holder (newest first) and by status', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          Match.objectLike({ IndexName: 'byHolder', KeySchema: [{ AttributeName: 'holder', KeyType: 'HASH' }, { AttributeName: 'submittedKey', KeyType: 'RANGE' }] }),
          Match.objectLike({ IndexName: 'byStatus', KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }, { AttributeName: 'updatedAt', KeyType: 'RANGE' }] }),
        ],
      });
    });

    const tables = ofType('AWS::DynamoDB::Table');

    it('bills every table on demand with point-in-time recovery', () => {
      expect(tables).toHaveLength(Object.keys(TABLES).length);
      for (const [, t] of tables) {
        expect(props(t)['BillingMode']).toBe('PAY_PER_REQUEST');
        expect(props(t)['PointInTimeRecoverySpecification']).toEqual({ PointInTimeRecoveryEnabled: true });
        expect(props(t)['SSESpecification']).toEqual({ SSEEnabled: true });
      }
    });

    it('expires nonces through the expiresAt TTL attribute', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      });
    });

    it('gives datasets the byStatus and byOwner indexes sorted by createdAtId', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: ['byStatus', 'byOwner'].map((name, i) =>
          Match.objectLike({
            IndexName: name,
            KeySchema: [{ AttributeName: i === 0 ? 'status' : 'owner', KeyType: 'HASH' }, { AttributeName: 'createdAtId', KeyType: 'RANGE' }],
            Projection: { ProjectionType: 'ALL' },
          }),
        ),
      });
    });

    it('protects data tables from deletion outside dev', () => {
      for (const [, t] of tables) expect((t as Resource & { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
      template.resourcePropertiesCountIs('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true }, Object.keys(TABLES).length);
    });

    it('keys upload sessions by uploadId (as shared/adapters/aws/tables.ts), with the sparse openByOwner index, deletion protection and no TTL', () => {
      const uploads = json.Resources[uploadsTable] as Resource & { DeletionPolicy?: string };
      expect(props(uploads)['AttributeDefinitions']).toEqual(
        expect.arrayContaining([
          { AttributeName: 'uploadId', AttributeType: 'S' },
          { AttributeName: 'openOwner', AttributeType: 'S' },
          { AttributeName: 'createdAtId', AttributeType: 'S' },
        ]),
      );
      expect(props(uploads)['DeletionProtectionEnabled']).toBe(true);
      expect(props(uploads)['TimeToLiveSpecification']).toBeUndefined();
      expect((props(uploads)['GlobalSecondaryIndexes'] as { IndexName: string }[]).map((i) => i.IndexName)).toEqual(['openByOwner']);
      expect(uploads.DeletionPolicy).toBe('Retain');
    });
  });

  describe('API', () => {
    // Provena's own Lambdas: all but CDK's BucketDeployment handler (Python, run only by deploys; see web console).
    const lambdas = ofType('AWS::Lambda::Function').filter(([id]) => !id.startsWith('CustomCDKBucketDeployment'));

    it('creates exactly one Lambda per route of the route table, plus the indexer and the relayer consumer', () => {
      expect(lambdas).toHaveLength(routes.length + 2);
    });

    it('exposes every route as method and path on the HTTP API', () => {
      const keys = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => props(r)['RouteKey']);
      expect(keys.sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    });

    it('runs every Lambda on Node.js 22 on ARM64 with a log group that has retention, its own role and the Powertools service name', () => {
      const retained = new Set(ofType('AWS::Logs::LogGroup').filter(([, g]) => typeof props(g)['RetentionInDays'] === 'number').map(([id]) => id));
      for (const [, fn] of lambdas) {
        expect(props(fn)['Runtime']).toBe('nodejs22.x');
        expect(props(fn)['Architectures']).toEqual(['arm64']);
        const logGroup = (props(fn)['LoggingConfig'] as { LogGroup: { Ref: string } }).LogGroup.Ref;
        expect(retained.has(logGroup)).toBe(true);
        expect(props(fn)['Role']).toBeDefined();
        expect(envOf(fn)['POWERTOOLS_SERVICE_NAME']).toMatch(/^provena-(api|indexer|relayer)$/);
      }
      // No AWS managed policy (AWSLambdaBasicExecutionRole may write any log group): each role writes its own.
      for (const [, role] of ofType('AWS::IAM::Role')) expect(props(role)['ManagedPolicyArns']).toBeUndefined();
    });

    it('puts an errors alarm on every Lambda', () => {
      const alarmed = ofType('AWS::CloudWatch::Alarm')
        .filter(([, a]) => props(a)['MetricName'] === 'Errors' && props(a)['Namespace'] === 'AWS/Lambda')
        .map(([, a]) => JSON.stringify(props(a)['Dimensions']));
      for (const [id] of lambdas) expect([id, alarmed.some((d) => d.includes(`"${id}"`))]).toEqual([id, true]);
    });

    it('throttles the stage', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
      });
    });

    it('throttles each route that has its own limit with that limit (routes.ts rateLimit.total)', () => {
      const limited = routes.filter((r) => (r as RouteDefinition).rateLimit);
      expect(limited.length).toBeGreaterThan(0);
      const settings = Object.fromEntries(
        limited.map((r) => {
          const total = (r as RouteDefinition).rateLimit!.total;
          return [`${r.method} ${r.path}`, { ThrottlingRateLimit: total.ratePerSecond, ThrottlingBurstLimit: total.burst }];
        }),
      );
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: '$default', RouteSettings: settings });
    });

    const writes = /^(dynamodb:(Put|Update|Delete|BatchWrite)|s3:(Put|Delete|Abort|Complete)|kms:(Encrypt|ReEncrypt|GenerateDataKey)|secretsmanager:(Put|Update|Delete|Create))/;

    it('gives public GET routes no write actions', () => {
      for (const route of routes.filter((r) => r.method === 'GET' && r.auth === 'public')) {
        const actions = statementsOfRole(roleOf(lambdaOf(route.name))).flatMap(actionsOf);
        expect([route.name, actions.filter((a) => writes.test(a))]).toEqual([route.name, []]);
      }
    });

    it('lets signed GET routes write only their request nonce and presigned part uploads under the data prefix', () => {
      const signedGets = routes.filter((r) => r.method === 'GET' && r.auth === 'signed');
      expect(signedGets.map((r) => r.name)).toEqual(['getUpload']);
      for (const route of signedGets) {
        for (const s of statementsOfRole(roleOf(lambdaOf(route.name)))) {
          for (const a of actionsOf(s).filter((x) => writes.test(x))) {
            for (const r of resourcesOf(s)) {
              const allowed =
                (a.startsWith('dynamodb:') && refersTo(r, noncesTable)) ||
                (a === 's3:PutObject' && refersTo(r, dataBucket) && JSON.stringify(r).includes(`/${UPLOAD_OBJECT_PREFIX}*`)) ||
                (a === 'kms:GenerateDataKey' && refersTo(r, dataBucketKey));
              expect([route.name, a, r, allowed]).toEqual([route.name, a, r, true]);
            }
          }
        }
      }
    });

    it('lets only the upload routes touch upload sessions (health only describes the table)', () => {
      for (const route of routes) {
        const actions = statementsOfRole(roleOf(lambdaOf(route.name)))
          .filter((s) => resourcesOf(s).some((r) => refersTo(r, uploadsTable)))
          .flatMap(actionsOf);
        // listUploads only queries (the openByOwner index); the others read items by key.
        const expected = route.name === 'listUploads' ? ['dynamodb:Query'] : uploadRoutes.includes(route.name) ? expect.arrayContaining(['dynamodb:GetItem']) : route.name === 'getHealth' ? ['dynamodb:DescribeTable'] : [];
        expect([route.name, actions]).toEqual([route.name, expected]);
        expect(actions.filter((a) => (route.name === 'listUploads' ? /Scan|Delete|Batch/ : /Scan|Query|Delete|Batch/).test(a))).toEqual([]);
      }
      expect(routeTable.getUpload.access.uploads).toBe('read');
    });

    it('scopes upload routes to multipart actions on objects under the data prefix (no delete, no abort, no listing)', () => {
      const expected: Record<string, string[]> = {
        startUpload: ['s3:PutObject'],
        getUpload: ['s3:ListMultipartUploadParts', 's3:PutObject'],
        listUploads: ['s3:ListMultipartUploadParts'],
        completeUpload: ['s3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
      };
      for (const name of uploadRoutes) {
        const s3Stmts = statementsOfRole(roleOf(lambdaOf(name))).filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
        expect([name, s3Stmts.flatMap(actionsOf).sort()]).toEqual([name, expected[name]]);
        for (const r of s3Stmts.flatMap(resourcesOf)) expect(JSON.stringify(r)).toContain(`/${UPLOAD_OBJECT_PREFIX}*`);
      }
    });

    it('lets only completeUpload wrap with the key-gate key and open sealed keys with the inbox key', () => {
      for (const route of routes) {
        const stmts = statementsOfRole(roleOf(lambdaOf(route.name)));
        const onGate = stmts.filter((s) => resourcesOf(s).some((r) => refersTo(r, keyGateKey))).flatMap(actionsOf);
        const onInbox = stmts.filter((s) => resourcesOf(s).some((r) => refersTo(r, inboxKey))).flatMap(actionsOf);
        const expected: Record<string, [string[], string[]]> = {
          completeUpload: [['kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'], ['kms:DeriveSharedSecret', 'kms:GetPublicKey']],
          getKeyGate: [[], ['kms:GetPublicKey']],
          releaseKey: [['kms:Decrypt', 'kms:Decrypt', 'kms:DescribeKey'], []],
        };
        expect([route.name, onGate.sort(), onInbox.sort()]).toEqual([route.name, ...(expected[route.name] ?? [[], []])]);
      }
    });

    it('lets releaseKey decrypt only under an enclave attestation of the approved image or for ciphertexts holders may have', () => {
      const decrypts = statementsOfRole(roleOf(lambdaOf('releaseKey'))).filter((s) => actionsOf(s).includes('kms:Decrypt'));
      expect(decrypts.map((s) => s.Condition).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
        { StringEquals: { 'kms:EncryptionContext:provena:holders': 'true' } },
        { StringEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': 'ab'.repeat(48) } },
      ]);
    });

    it('lets relaying routes only enqueue on the relay FIFO queue; the relayer consumer alone reads the key, by its exact ARN', () => {
      const relaying = routes.filter((r) => r.access.relayerSecret === 'read').map((r) => r.name);
      expect(relaying).toEqual(expect.arrayContaining(['registerDataset', 'claimRoyalties']));
      for (const route of routes) {
        const stmts = statementsOfRole(roleOf(lambdaOf(route.name)));
        const env = envOf(lambdaOf(route.name));
        expect([route.name, stmts.filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')))]).toEqual([route.name, []]);
        expect(env['PROVENA_RELAYER_KEY']).toBeUndefined();
        expect(env['PROVENA_RELAYER_SECRET_ARN']).toBeUndefined();
        const onRelayQueue = stmts.filter((s) => resourcesOf(s).some((r) => refersTo(r, relayQueue))).flatMap(actionsOf);
        expect([route.name, onRelayQueue]).toEqual([route.name, relaying.includes(route.name) ? ['sqs:SendMessage'] : []]);
        if (relaying.includes(route.name)) expect(env['PROVENA_RELAYER_ADDRESS']).toBe(RELAYER_ADDRESS);
      }
      const consumer = statementsOfRole(roleOf(relayerFn));
      expect(consumer.filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')))).toEqual([
        expect.objectContaining({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: RELAYER_SECRET_ARN }),
      ]);
      expect(envOf(relayerFn)['PROVENA_RELAYER_SECRET_ARN']).toBe(RELAYER_SECRET_ARN);
      expect(envOf(relayerFn)['PROVENA_RELAYER_KEY']).toBeUndefined();
    });

    it('grants each job route exactly what its access kinds name (jobs table, job queue, artifacts under jobs/)', () => {
      const expectedQueue = { send: ['sqs:GetQueueAttributes', 'sqs:SendMessage'], consume: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'] };
      const expectedJobs = { read: ['dynamodb:GetItem', 'dynamodb:Query'], write: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'] };
      const expectedArtifacts = { read: ['s3:GetObject'], write: ['s3:GetObject', 's3:PutObject'] };
      for (const route of routes) {
        const access = route.access as RouteDefinition['access'];
        const stmts = statementsOfRole(roleOf(lambdaOf(route.name)));
        const on = (id: string) => stmts.filter((s) => resourcesOf(s).some((r) => refersTo(r, id))).flatMap(actionsOf).sort();
        expect([route.name, 'jobs', on(jobsTable)]).toEqual([route.name, 'jobs', access.jobs ? expectedJobs[access.jobs] : []]);
        expect([route.name, 'queue', on(jobQueue)]).toEqual([route.name, 'queue', access.jobQueue ? expectedQueue[access.jobQueue] : []]);
        const artifacts = stmts.filter((s) => resourcesOf(s).some((r) => JSON.stringify(r).includes(`/${ARTIFACT_OBJECT_PREFIX}*`))).flatMap(actionsOf).sort();
        expect([route.name, 'artifacts', artifacts]).toEqual([route.name, 'artifacts', access.artifacts ? expectedArtifacts[access.artifacts] : []]);
        if (access.jobs === 'write') expect(on(jobsTable).filter((a) => /Scan|Delete|Batch/.test(a))).toEqual([]);
      }
      expect(routeTable.submitJob.access.jobQueue).toBe('send');
    });

    it('gives every API Lambda the job settings the handlers read', () => {
      for (const [, fn] of lambdas.filter(([, f]) => envOf(f)['POWERTOOLS_SERVICE_NAME'] === 'provena-api')) {
        expect(envOf(fn)['PROVENA_TABLE_JOBS']).toEqual({ Ref: jobsTable });
        expect(JSON.stringify(envOf(fn)['PROVENA_JOB_QUEUE_URL'])).toContain(jobQueue);
        expect(envOf(fn)['PROVENA_WORKER_OPERATORS']).toBe(WORKER_OPERATOR);
        expect(envOf(fn)['PROVENA_JOB_LEASE_SECONDS']).toBe('900');
      }
    });

    it('lets every signed route write the nonces table and no public route but the key gate', () => {
      // releaseKey is public at the HTTP layer but carries a signed, single-use key request in its body; the
      // attestation routes issue and consume single-use attestation nonces (the evidence authenticates the worker).
      const bodySigned = new Set<string>(['releaseKey', 'issueAttestationNonce', 'attestWorker']);
      for (const route of routes) {
        const stmts = statementsOfRole(roleOf(lambdaOf(route.name)));
        const writesNonces = stmts.some((s) => actionsOf(s).includes('dynamodb:PutItem') && JSON.stringify(s.Resource).includes(`"${noncesTable}"`));
        const expected = route.auth === 'signed' || bodySigned.has(route.name);
        expect([route.name, writesNonces]).toEqual([route.name, expected]);
        expect([route.name, route.access.nonces === 'write']).toEqual([route.name, expected]);
      }
    });

    it('sets the environment the handlers read on AWS (Kubo content store, KMS gate keys, no endpoints)', () => {
      for (const [, fn] of lambdas.filter(([, f]) => envOf(f)['POWERTOOLS_SERVICE_NAME'] === 'provena-api')) {
        const vars = envOf(fn);
        expect(Object.keys(vars)).toEqual(
          expect.arrayContaining([
            'PROVENA_TABLE_DATASETS',
            'PROVENA_TABLE_NONCES',
            'PROVENA_TABLE_UPLOADS',
            'PROVENA_BUCKET_DATA',
            'PROVENA_CHAIN_RPC_URL',
            'PROVENA_CHAIN_ID',
            'PROVENA_CONTRACTS',
            'POWERTOOLS_SERVICE_NAME',
          ]),
        );
        expect(vars['PROVENA_CONTENT_STORE']).toBe('kubo');
        // The AWS key gate backend (never `embedded`, whose master key file has no place on Lambda).
        expect(vars['PROVENA_KEY_GATE']).toBe('kms');
        expect(vars['PROVENA_KEY_GATE_MASTER_KEY_FILE']).toBeUndefined();
        expect(JSON.stringify(vars['PROVENA_KEY_GATE_KEY_ARN'])).toContain(keyGateKey);
        expect(JSON.stringify(vars['PROVENA_KEY_GATE_INBOX_KEY_ARN'])).toContain(inboxKey);
        expect(vars['PROVENA_KMS_ENDPOINT']).toBeUndefined();
        expect(vars['PROVENA_CHAIN_NAME']).toBe('baseSepolia');
        expect(vars['PROVENA_UPLOAD_URL_TTL_SECONDS']).toBe('3600');
        expect(vars['PROVENA_KUBO_URL']).toBe('https://kubo.internal.example.org:5001');
        expect(vars['PROVENA_DYNAMODB_ENDPOINT']).toBeUndefined();
        expect(vars['PROVENA_S3_ENDPOINT']).toBeUndefined();
      }
    });
  });

  describe('IAM', () => {
    // AWS requires Resource '*' for these (no resource-level permissions); none touch data.
    // cloudfront:Create/GetInvalidation: written by CDK's BucketDeployment (web console); cache invalidation, no data.
    const resourceStarAllowed = /^(xray:|cloudwatch:PutMetricData$|logs:DescribeLogGroups$|ec2:Describe|autoscaling:Describe|cloudfront:(Create|Get)Invalidation$)/;
    const statements = ofType('AWS::IAM::Policy').flatMap(([, r]) => (props(r)['PolicyDocument'] as { Statement: Statement[] }).Statement);

    it('has no statement allowing every action', () => {
      for (const s of statements) for (const a of actionsOf(s)) expect(a === '*' || a.endsWith(':*')).toBe(false);
    });

    it("has no data action on Resource '*'", () => {
      const offending = statements.filter((s) => resourcesOf(s).includes('*') && !actionsOf(s).every((a) => resourceStarAllowed.test(a)));
      expect(offending).toEqual([]);
    });

    it("denies kms:Decrypt on the gate key in its key policy, to every principal, unless under an attestation of the approved image or for holders' ciphertexts", () => {
      const policy = props(json.Resources[keyGateKey] as Resource)['KeyPolicy'] as { Statement: (Statement & { Principal?: unknown })[] };
      const deny = policy.Statement.filter((st) => st.Effect === 'Deny');
      expect(deny).toEqual([
        expect.objectContaining({
          Action: 'kms:Decrypt',
          Principal: { AWS: '*' },
          Condition: {
            StringNotEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': 'ab'.repeat(48) },
            StringNotEquals: { 'kms:EncryptionContext:provena:holders': 'true' },
          },
        }),
      ]);
    });

    it('grants kms:Decrypt on the gate key nowhere without a condition', () => {
      const unconditioned = statements.filter((st) => actionsOf(st).includes('kms:Decrypt') && refersTo(st.Resource, keyGateKey) && st.Condition === undefined);
      expect(unconditioned).toEqual([]);
    });

    it('makes the inbox key a P-256 key-agreement key (its private half never leaves KMS)', () => {
      expect(props(json.Resources[inboxKey] as Resource)).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
    });
  });

  describe('security check (cdk-nag AwsSolutions)', () => {
    it('has no unacknowledged finding (each acknowledgment carries its reason in code)', () => {
      const findings = nag.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
      expect(findings).toEqual([]);
    });
  });

  describe('GPU workers', () => {
    it('requires IMDSv2 and enables Nitro Enclaves in the launch template', () => {
      template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: Match.objectLike({ MetadataOptions: Match.objectLike({ HttpTokens: 'required' }), EnclaveOptions: { Enabled: true } }),
      });
    });

    it('encrypts the root volume', () => {
      template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: Match.objectLike({ BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true }) })] }),
      });
    });

    it('runs 100% Spot with capacity-optimized allocation', () => {
      template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
        MixedInstancesPolicy: Match.objectLike({
          InstancesDistribution: Match.objectLike({ OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'capacity-optimized' }),
        }),
      });
    });

    it('scales down to zero instances', () => {
      template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0' });
    });

    it('spreads Spot over at least three GPU instance types', () => {
      const asg = ofType('AWS::AutoScaling::AutoScalingGroup')[0]?.[1] as Resource;
      const overrides = (props(asg)['MixedInstancesPolicy'] as { LaunchTemplate: { Overrides: { InstanceType: string }[] } }).LaunchTemplate.Overrides;
      expect(overrides.length).toBeGreaterThanOrEqual(3);
      for (const o of overrides) expect(o.InstanceType).toMatch(/^g\d/);
      expect(new Set(overrides.map((o) => o.InstanceType.split('.')[0])).size).toBeGreaterThanOrEqual(3);
    });

    it('limits the instance role to the job queue depth, checkpoint objects, its logs, its own group, the agent bundle and EIF, and the operator key under attestation', () => {
      const role = logicalIdOf('AWS::IAM::Role', (_, r) => JSON.stringify(props(r)['AssumeRolePolicyDocument']).includes('ec2.amazonaws.com') && !JSON.stringify(r).includes('FlowLog'));
      const stmts = statementsOfRole(role);
      const pairs = stmts.flatMap((st) => actionsOf(st).map((a) => a));
      expect(pairs.sort()).toEqual(
        ['autoscaling:SetInstanceProtection', 'kms:Decrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject', 's3:GetObject', 's3:PutObject', 'sqs:GetQueueAttributes'].sort(),
      );
      expect(JSON.stringify(stmts)).toContain('provena-artifacts/agent/provena-enclave-1.0.0.eif');
      expect(JSON.stringify(stmts)).toContain('provena-artifacts/agent/agent-1.0.0.tar.gz'
      );
      for (const st of stmts) {
        expect(refersTo(st.Resource, keyGateKey)).toBe(false);
        if (actionsOf(st).includes('s3:PutObject')) expect(JSON.stringify(st.Resource)).toContain(`/${ARTIFACT_OBJECT_PREFIX}*/checkpoints/*`);
      }
    });

    it('hands the agent the API URL, not the data bucket or a key ARN', () => {
      const lt = ofType('AWS::EC2::LaunchTemplate')[0]?.[1] as Resource;
      const userData = JSON.stringify(props(lt)['LaunchTemplateData']);
      expect(userData).toContain('PROVENA_API_URL');
      expect(userData).not.toContain('PROVENA_KEY_GATE_KEY_ARN');
    });

    /** The launch template's user data as text, CloudFormation references shown as <Ref>. */
    const userDataText = (): string => {
      const lt = ofType('AWS::EC2::LaunchTemplate')[0]?.[1] as Resource;
      const data = (props(lt)['LaunchTemplateData'] as { UserData: { 'Fn::Base64': { 'Fn::Join': [string, unknown[]] } } }).UserData['Fn::Base64']['Fn::Join'][1];
      return data.map((p) => (typeof p === 'string' ? p : '<Ref>')).join('');
    };
    const launch = WorkerLaunchSchema.parse({ production: true, enclave: { cpuCount: 4, memoryMib: 6144 }, logGroup: 'x', env: {} });

    it('starts the Nitro pair under systemd with exactly the rendered units, and no single-process agent', () => {
      const text = userDataText();
      for (const [name, unit] of Object.entries(renderUnits(launch))) {
        expect(text).toContain(`cat > '/etc/systemd/system/${name}' <<`);
        expect(text).toContain(unit.replace(/\n$/, ''));
      }
      expect(text).toContain('systemctl enable --now provena-parent.service provena-vsock-bridge.service provena-enclave.service');
      expect(text).not.toContain('provena-agent.service');
      expect(text).not.toMatch(/node [^\n]*main\.js/);
    });

    it('runs the EIF with nitro-cli on the configured CPUs and memory, never in debug mode outside dev', () => {
      const text = userDataText();
      expect(text).toContain(renderLauncher(launch).replace(/\n$/, ''));
      expect(text).toContain("nitro-cli 'run-enclave' '--enclave-name' 'provena-worker' '--cpu-count' '4' '--memory' '6144' '--enclave-cid' '16' '--eif-path' '/opt/provena/enclave.eif'");
      expect(text).toContain("aws s3 cp 's3://provena-artifacts/agent/provena-enclave-1.0.0.eif' '/opt/provena/enclave.eif'");
      expect(text).toContain("sed -i -e 's/^memory_mib:.*/memory_mib: 6144/' -e 's/^cpu_count:.*/cpu_count: 4/'");
      expect(text).not.toContain('--debug-mode');
      expect(() => readInfraConfig({ PROVENA_STAGE: 'test', PROVENA_ENCLAVE_DEBUG_MODE: 'true' })).toThrow(/PROVENA_ENCLAVE_DEBUG_MODE/);
      expect(readInfraConfig({ PROVENA_ENCLAVE_DEBUG_MODE: 'true' }).enclaveDebugMode).toBe(true);
    });

    it('bridges vsock to the parent socket with socat, the same port the enclave image dials', () => {
      expect(userDataText()).toContain("exec socat 'VSOCK-LISTEN:5005,fork,reuseaddr' 'UNIX-CONNECT:/run/provena/parent.sock'");
      expect(renderEnclaveInit(launch)).toContain("'VSOCK-CONNECT:3:5005'");
    });

    it('gives the parent the sealed operator key and IMDSv2 for spot notices, never the operator key itself, and ships its logs to CloudWatch', () => {
      const text = userDataText();
      expect(text).toContain(`PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT='${OPERATOR_KEY_CIPHERTEXT}'`);
      expect(text).toContain("PROVENA_WORKER_IMDS_URL='http://169.254.169.254'");
      expect(text).not.toMatch(/PROVENA_WORKER_OPERATOR_KEY=/);
      expect(text).toContain('amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/provena.json');
    });

    it('feeds PCR0 to the operator key\'s policy: Decrypt denied to everyone unless KMS sees an attestation of that image', () => {
      const operatorKey = logicalIdOf('AWS::KMS::Key', (id) => id.startsWith('GpuOperatorKey'));
      const policy = props(json.Resources[operatorKey] as Resource)['KeyPolicy'] as { Statement: (Statement & { Principal?: unknown })[] };
      expect(policy.Statement.filter((st) => st.Effect === 'Deny')).toEqual([
        expect.objectContaining({ Action: 'kms:Decrypt', Principal: { AWS: '*' }, Condition: { StringNotEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': 'ab'.repeat(48) } } }),
      ]);
      const all = ofType('AWS::IAM::Policy').flatMap(([, r]) => (props(r)['PolicyDocument'] as { Statement: Statement[] }).Statement);
      const grants = all.filter((st) => actionsOf(st).includes('kms:Decrypt') && refersTo(st.Resource, operatorKey));
      expect(grants).toEqual([
        expect.objectContaining({
          Condition: { StringEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': 'ab'.repeat(48) }, StringEquals: { 'kms:EncryptionContext:provena:purpose': 'worker-operator-key' } },
        }),
      ]);
    });

    it('scales on the jobs queue backlog', () => {
      template.resourceCountIs('AWS::AutoScaling::ScalingPolicy', 2);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([Match.objectLike({ Expression: 'visible + inflight' })]),
      });
    });

    it('dead-letters jobs after three receives', () => {
      template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 } });
    });
  });

  it('rotates every symmetric KMS key (KMS cannot rotate asymmetric ones)', () => {
    const keys = ofType('AWS::KMS::Key').filter(([, k]) => props(k)['KeySpec'] === undefined);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const [, k] of keys) expect(props(k)['EnableKeyRotation']).toBe(true);
  });

  describe('job queue', () => {
    it('is a standard SQS queue with SSE, TLS only, dead-lettered after three receives, visible again after a lease', () => {
      const q = props(json.Resources[jobQueue] as Resource);
      expect(q['FifoQueue']).toBeUndefined();
      expect(q['SqsManagedSseEnabled']).toBe(true);
      expect(q['VisibilityTimeout']).toBe(900);
      expect(q['RedrivePolicy']).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [expect.stringMatching(/^JobsDlq/), 'Arn'] }, maxReceiveCount: 3 });
    });
  });

  describe('TLS only', () => {
    it('denies non-TLS requests on every queue, bucket and topic', () => {
      const policies = [...ofType('AWS::SQS::QueuePolicy'), ...ofType('AWS::S3::BucketPolicy'), ...ofType('AWS::SNS::TopicPolicy')];
      expect(policies.length).toBe(ofType('AWS::SQS::Queue').length + ofType('AWS::S3::Bucket').length + ofType('AWS::SNS::Topic').length);
      for (const [id, p] of policies) {
        const doc = JSON.stringify(props(p)['PolicyDocument']);
        expect([id, doc.includes('"aws:SecureTransport":"false"') && doc.includes('"Deny"')]).toEqual([id, true]);
      }
    });

    it('blocks public access on every bucket', () => {
      for (const [id, b] of ofType('AWS::S3::Bucket')) {
        expect([id, props(b)['PublicAccessBlockConfiguration']]).toEqual([id, { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true }]);
      }
    });
  });

  describe('indexer and relayer', () => {
    it('runs the indexer every minute and alarms on its lag metric, treating silence as lag', () => {
      template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)', Targets: [Match.objectLike({ Arn: Match.anyValue() })] });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'Provena/Indexer', MetricName: 'LagBlocks', TreatMissingData: 'breaching', Threshold: 100 });
      const grants = statementsOfRole(roleOf(indexerFn)).flatMap(actionsOf);
      expect(grants.filter((a) => a.startsWith('dynamodb:Scan') || a.startsWith('secretsmanager:') || a.startsWith('kms:'))).toEqual([]);
    });

    it('drains the relay FIFO queue with one consumer reporting partial batch failures, ticked in the calls\' own message group', () => {
      expect(props(json.Resources[relayQueue] as Resource)).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true, ContentBasedDeduplication: false });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionResponseTypes: ['ReportBatchItemFailures'], EventSourceArn: { 'Fn::GetAtt': [relayQueue, 'Arn'] } });
      template.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ Input: '{"tick":true}', SqsParameters: { MessageGroupId: RELAYER_ADDRESS } })] });
    });

    it("alarms on the relayer's low balance and on its dead-letter queue", () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'Provena/Relayer', MetricName: 'BalanceBelowThreshold' });
      const dlqAlarms = ofType('AWS::CloudWatch::Alarm').filter(([, a]) => props(a)['MetricName'] === 'ApproximateNumberOfMessagesVisible');
      expect(dlqAlarms).toHaveLength(2);
    });
  });

  describe('web console', () => {
    const siteBucket = logicalIdOf('AWS::S3::Bucket', (id) => id.startsWith('WebBucket'));
    const distribution = (): Record<string, unknown> => props((ofType('AWS::CloudFront::Distribution')[0] as [string, Resource])[1])['DistributionConfig'] as Record<string, unknown>;

    it('keeps the site bucket private: all public access blocked, TLS only, SSE, access-logged', () => {
      const bucket = props(json.Resources[siteBucket] as Resource);
      expect(bucket['PublicAccessBlockConfiguration']).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket['BucketEncryption']).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
      expect(bucket['LoggingConfiguration']).toMatchObject({ LogFilePrefix: 'site/' });
      const [, policy] = ofType('AWS::S3::BucketPolicy').find(([, p]) => refersTo(props(p)['Bucket'], siteBucket)) as [string, Resource];
      const statements = (props(policy)['PolicyDocument'] as { Statement: (Statement & { Principal?: unknown })[] }).Statement;
      // Only CloudFront (by service principal, for this distribution) may read; no statement allows '*'.
      expect(statements.filter((st) => st.Effect === 'Allow' && JSON.stringify(st.Principal).includes('"*"'))).toEqual([]);
      expect(statements.some((st) => st.Effect === 'Allow' && JSON.stringify(st.Principal).includes('cloudfront.amazonaws.com') && JSON.stringify(st.Condition).includes('AWS:SourceArn'))).toBe(true);
    });

    it('reads the bucket through Origin Access Control (no origin access identity)', () => {
      template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', { OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' } });
      const [origin] = distribution()['Origins'] as Record<string, unknown>[];
      expect(origin?.['OriginAccessControlId']).toBeDefined();
      expect(JSON.stringify(origin?.['S3OriginConfig'])).not.toContain('origin-access-identity');
      expect(ofType('AWS::CloudFront::CloudFrontOriginAccessIdentity')).toEqual([]);
    });

    it('serves HTTPS only (HTTP redirects) with index.html at the root', () => {
      expect(distribution()).toMatchObject({ DefaultRootObject: 'index.html', DefaultCacheBehavior: { ViewerProtocolPolicy: 'redirect-to-https' } });
    });

    it('answers page paths with index.html and 200 (SPA fallback for 403 and 404)', () => {
      expect(distribution()['CustomErrorResponses']).toEqual([
        { ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
        { ErrorCode: 404, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
      ]);
    });

    it("sends the embedded server's CSP, HSTS, nosniff, no framing and no referrer", () => {
      template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
        ResponseHeadersPolicyConfig: Match.objectLike({
          SecurityHeadersConfig: {
            ContentSecurityPolicy: { ContentSecurityPolicy: CONSOLE_CSP, Override: true },
            StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true },
            ContentTypeOptions: { Override: true },
            FrameOptions: { FrameOption: 'DENY', Override: true },
            ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
          },
        }),
      });
    });

    it("runs CDK's deployment handler with its own role (no AWS managed policy) and a log group with retention", () => {
      const [[, handler]] = ofType('AWS::Lambda::Function').filter(([id]) => id.startsWith('CustomCDKBucketDeployment')) as [[string, Resource]];
      const role = roleOf(handler);
      expect(role.startsWith('WebDeployRole')).toBe(true);
      expect(props(json.Resources[role] as Resource)['ManagedPolicyArns']).toBeUndefined();
      const logGroup = (props(handler)['LoggingConfig'] as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(props(json.Resources[logGroup] as Resource)['RetentionInDays']).toBe(30);
    });

    it('deploys the built console and a config.json naming the API URL that the console reads, then invalidates the cache', () => {
      const [[, deployment]] = ofType('Custom::CDKBucketDeployment') as [[string, Resource]];
      expect(props(deployment)).toMatchObject({ DestinationBucketName: { Ref: siteBucket }, DistributionPaths: ['/*'], Prune: true });
      // The staged config.json carries the API URL as deploy-time markers (API id, region, URL suffix); with the
      // values the deployment substitutes, it must parse as the console's config.
      const markers = (props(deployment)['SourceMarkers'] as Record<string, { Ref: string }>[]).find((m) => Object.keys(m).length > 0) ?? {};
      const values: Record<string, string> = { [logicalIdOf('AWS::ApiGatewayV2::Api', () => true)]: 'abc123', 'AWS::Region': 'eu-west-1', 'AWS::URLSuffix': 'amazonaws.com' };
      const staged = readdirSync(app.outdir).filter((d) => existsSync(join(app.outdir, d, CONSOLE_CONFIG_FILE)));
      expect(staged).toHaveLength(1);
      let text = readFileSync(join(app.outdir, staged[0] as string, CONSOLE_CONFIG_FILE), 'utf8');
      for (const [marker, ref] of Object.entries(markers)) text = text.replaceAll(marker, values[ref.Ref] ?? '?');
      expect(parseConsoleConfig(JSON.parse(text))).toEqual({ apiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/' });
    });
  });

  it('outputs the API URL, console URL, tables, bucket, queue and key', () => {
    expect(Object.keys(template.toJSON()['Outputs'] as object).sort()).toEqual(
      ['ApiUrl', 'ConsoleUrl', 'DataBucketName', 'DatasetsTableName', 'JobsQueueUrl', 'JobsTableName', 'KeyGateInboxKeyArn', 'KeyGateKeyArn', 'NoncesTableName', 'RelayQueueUrl', 'UploadsTableName', 'WorkerOperatorKeyArn'].sort(),
    );
  });
});
