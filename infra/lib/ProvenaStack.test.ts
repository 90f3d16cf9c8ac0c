/**
 * The stack's snapshot (asset hashes masked) plus one named assertion per security or cost rule.
 * Synthesizes once, without bundling (context `aws:cdk:bundling-stacks: []`), and reuses the Template.
 */
import { TABLES } from '../../shared/adapters/aws/tableLayout.js';
import { describe, expect, it } from '@jest/globals';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { routeList as routes, routes as routeTable } from '../../shared/http/routes.js';
import { readInfraConfig } from './InfraConfig.js';
import { ProvenaStack } from './ProvenaStack.js';
import { UPLOAD_OBJECT_PREFIX } from './constructs/HttpApi.js';
import type { RouteDefinition } from '../../shared/http/route.js';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Condition?: unknown };

const RELAYER_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:provena/test/relayer-AbC123';
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new ProvenaStack(app, 'Provena-test', {
  config: readInfraConfig({
    PROVENA_STAGE: 'test',
    PROVENA_CHAIN_RPC_URL: 'https://rpc.example.org',
    PROVENA_CHAIN_ID: '84532',
    PROVENA_CHAIN_NAME: 'baseSepolia',
    PROVENA_RELAYER_SECRET_ARN: RELAYER_SECRET_ARN,
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
  }),
});
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
const keyGateKey = logicalIdOf('AWS::KMS::Key', (id) => id.startsWith('KeyGate'));
const dataBucket = logicalIdOf('AWS::S3::Bucket', (id) => id.startsWith('Data'));
const dataBucketKey = logicalIdOf('AWS::KMS::Key', (id) => id.startsWith('Data'));
const uploadRoutes = ['startUpload', 'getUpload', 'completeUpload'];

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

    it('keys upload sessions by uploadId (as shared/adapters/aws/tables.ts), with deletion protection and no TTL', () => {
      const uploads = json.Resources[uploadsTable] as Resource & { DeletionPolicy?: string };
      expect(props(uploads)['AttributeDefinitions']).toEqual([{ AttributeName: 'uploadId', AttributeType: 'S' }]);
      expect(props(uploads)['DeletionProtectionEnabled']).toBe(true);
      expect(props(uploads)['TimeToLiveSpecification']).toBeUndefined();
      expect(props(uploads)['GlobalSecondaryIndexes']).toBeUndefined();
      expect(uploads.DeletionPolicy).toBe('Retain');
    });
  });

  describe('API', () => {
    const lambdas = ofType('AWS::Lambda::Function');

    it('creates exactly one Lambda per route of the route table', () => {
      expect(lambdas).toHaveLength(routes.length);
    });

    it('exposes every route as method and path on the HTTP API', () => {
      const keys = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => props(r)['RouteKey']);
      expect(keys.sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    });

    it('runs every Lambda on Node.js 22 on ARM64 with a log group that has retention', () => {
      const retained = new Set(ofType('AWS::Logs::LogGroup').filter(([, g]) => typeof props(g)['RetentionInDays'] === 'number').map(([id]) => id));
      for (const [, fn] of lambdas) {
        expect(props(fn)['Runtime']).toBe('nodejs22.x');
        expect(props(fn)['Architectures']).toEqual(['arm64']);
        const logGroup = (props(fn)['LoggingConfig'] as { LogGroup: { Ref: string } }).LogGroup.Ref;
        expect(retained.has(logGroup)).toBe(true);
      }
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
        const expected = uploadRoutes.includes(route.name) ? expect.arrayContaining(['dynamodb:GetItem']) : route.name === 'getHealth' ? ['dynamodb:DescribeTable'] : [];
        expect([route.name, actions]).toEqual([route.name, expected]);
        expect(actions.filter((a) => /Scan|Query|Delete|Batch/.test(a))).toEqual([]);
      }
      expect(routeTable.getUpload.access.uploads).toBe('read');
    });

    it('scopes upload routes to multipart actions on objects under the data prefix (no delete, no abort, no listing)', () => {
      const expected: Record<string, string[]> = {
        startUpload: ['s3:PutObject'],
        getUpload: ['s3:ListMultipartUploadParts', 's3:PutObject'],
        completeUpload: ['s3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
      };
      for (const name of uploadRoutes) {
        const s3Stmts = statementsOfRole(roleOf(lambdaOf(name))).filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
        expect([name, s3Stmts.flatMap(actionsOf).sort()]).toEqual([name, expected[name]]);
        for (const r of s3Stmts.flatMap(resourcesOf)) expect(JSON.stringify(r)).toContain(`/${UPLOAD_OBJECT_PREFIX}*`);
      }
    });

    it('lets only completeUpload use the key-gate key, and only to wrap', () => {
      for (const route of routes) {
        const actions = statementsOfRole(roleOf(lambdaOf(route.name)))
          .filter((s) => resourcesOf(s).some((r) => refersTo(r, keyGateKey)))
          .flatMap(actionsOf);
        if (route.name === 'completeUpload') {
          expect(actions).toEqual(expect.arrayContaining(['kms:Encrypt', 'kms:GenerateDataKey']));
          expect(actions.filter((a) => /Decrypt|ReEncrypt|CreateGrant|\*/.test(a))).toEqual([]);
        } else {
          expect([route.name, actions]).toEqual([route.name, []]);
        }
      }
    });

    it('gives the relayer secret, by its exact ARN, to the relaying routes alone and never puts a key in the environment', () => {
      const relaying = new Set<string>(['registerDataset', 'claimRoyalties']);
      for (const route of routes) {
        const stmts = statementsOfRole(roleOf(lambdaOf(route.name))).filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
        const env = envOf(lambdaOf(route.name));
        expect(env['PROVENA_RELAYER_KEY']).toBeUndefined();
        if (relaying.has(route.name)) {
          expect(stmts).toEqual([expect.objectContaining({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: RELAYER_SECRET_ARN })]);
          expect(env['PROVENA_RELAYER_SECRET_ARN']).toBe(RELAYER_SECRET_ARN);
        } else {
          expect([route.name, stmts]).toEqual([route.name, []]);
          expect([route.name, env['PROVENA_RELAYER_SECRET_ARN']]).toEqual([route.name, undefined]);
        }
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

    it('sets the environment the handlers read on AWS (Kubo content store, no endpoints)', () => {
      for (const [, fn] of lambdas) {
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
    const resourceStarAllowed = /^(xray:|cloudwatch:PutMetricData$|logs:DescribeLogGroups$|ec2:Describe|autoscaling:Describe)/;
    const statements = ofType('AWS::IAM::Policy').flatMap(([, r]) => (props(r)['PolicyDocument'] as { Statement: Statement[] }).Statement);

    it('has no statement allowing every action', () => {
      for (const s of statements) for (const a of actionsOf(s)) expect(a === '*' || a.endsWith(':*')).toBe(false);
    });

    it("has no data action on Resource '*'", () => {
      const offending = statements.filter((s) => resourcesOf(s).includes('*') && !actionsOf(s).every((a) => resourceStarAllowed.test(a)));
      expect(offending).toEqual([]);
    });

    it('lets GPU workers decrypt with the key-gate key only from an attested enclave', () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: 'kms:Decrypt', Condition: { StringEqualsIgnoreCase: { 'kms:RecipientAttestation:PCR0': 'ab'.repeat(48) } } }),
          ]),
        },
      });
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

  it('rotates every KMS key', () => {
    const keys = ofType('AWS::KMS::Key');
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const [, k] of keys) expect(props(k)['EnableKeyRotation']).toBe(true);
  });

  it('outputs the API URL, tables, bucket, queue and key', () => {
    expect(Object.keys(template.toJSON()['Outputs'] as object).sort()).toEqual(
      ['ApiUrl', 'DataBucketName', 'DatasetsTableName', 'JobsQueueUrl', 'KeyGateKeyArn', 'NoncesTableName', 'UploadsTableName'].sort(),
    );
  });
});
