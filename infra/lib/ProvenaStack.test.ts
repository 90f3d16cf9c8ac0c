/**
 * The stack's snapshot (asset hashes masked) plus one named assertion per security or cost rule.
 * Synthesizes once, without bundling (context `aws:cdk:bundling-stacks: []`), and reuses the Template.
 */
import { describe, expect, it } from '@jest/globals';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { routes } from '../../shared/http/routes.js';
import { readInfraConfig } from './InfraConfig.js';
import { ProvenaStack } from './ProvenaStack.js';
import { routeAccess } from './constructs/HttpApi.js';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Condition?: unknown };

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new ProvenaStack(app, 'Provena-test', {
  config: readInfraConfig({
    PROVENA_STAGE: 'test',
    PROVENA_CHAIN_RPC_URL: 'https://rpc.example.org',
    PROVENA_CHAIN_ID: '84532',
    PROVENA_CONTRACTS: '{"PaymentToken":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8"}',
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
      expect(tables).toHaveLength(3);
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

    it('keeps Powertools idempotency records under the expiration TTL', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      });
    });

    it('protects data tables from deletion outside dev', () => {
      for (const [, t] of tables) expect((t as Resource & { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
      template.resourcePropertiesCountIs('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true }, 2);
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

    it('gives read-only routes no write actions', () => {
      const writes = /^(dynamodb:(Put|Update|Delete|BatchWrite)|s3:(Put|Delete|Abort)|kms:(Encrypt|GenerateDataKey))/;
      for (const route of routes.filter((r) => r.method === 'GET')) {
        const actions = statementsOfRole(roleOf(lambdaOf(route.name))).flatMap(actionsOf);
        expect(actions.filter((a) => writes.test(a))).toEqual([]);
      }
    });

    it('lets every signed route write the nonces table and no public route', () => {
      const noncesTable = ofType('AWS::DynamoDB::Table').find(([, t]) => JSON.stringify(props(t)['KeySchema']).includes('"pk"'))?.[0];
      for (const route of routes) {
        const stmts = statementsOfRole(roleOf(lambdaOf(route.name)));
        const writesNonces = stmts.some((s) => actionsOf(s).includes('dynamodb:PutItem') && JSON.stringify(s.Resource).includes(`"${noncesTable}"`));
        expect([route.name, writesNonces]).toEqual([route.name, route.auth === 'signed']);
        expect(routeAccess[route.name].nonces === 'write').toBe(route.auth === 'signed');
      }
    });

    it('sets the environment the handlers read on AWS (Kubo content store, no endpoints)', () => {
      for (const [, fn] of lambdas) {
        const vars = (props(fn)['Environment'] as { Variables: Record<string, unknown> }).Variables;
        expect(Object.keys(vars)).toEqual(
          expect.arrayContaining(['PROVENA_TABLE_DATASETS', 'PROVENA_TABLE_NONCES', 'PROVENA_BUCKET_DATA', 'PROVENA_CHAIN_RPC_URL', 'PROVENA_CHAIN_ID', 'PROVENA_CONTRACTS', 'POWERTOOLS_SERVICE_NAME']),
        );
        expect(vars['PROVENA_CONTENT_STORE']).toBe('kubo');
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
      ['ApiUrl', 'DataBucketName', 'DatasetsTableName', 'IdempotencyTableName', 'JobsQueueUrl', 'KeyGateKeyArn', 'NoncesTableName'].sort(),
    );
  });
});
