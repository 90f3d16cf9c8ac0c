import { existsSync } from 'node:fs';
import path from 'node:path';
import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { CONSOLE_CSP } from '../../../stack/staticSite.js';
import { CONSOLE_CONFIG_FILE, type ConsoleConfig } from '../../../web/src/consoleConfig.js';
import { acknowledge, arnToken } from '../nag.js';
import { repoRoot } from './provenaFunction.js';

/** Props for {@link WebConsole}. */
export interface WebConsoleProps {
  /** The API's base URL, written to the console's `config.json`. */
  readonly apiUrl: string;
  /** `true` outside dev: RETAIN the buckets. */
  readonly protectData: boolean;
  /** Of the deployment handler's log group. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** The built console (`npm run build:web`). @default <repo>/web/dist */
  readonly sourceDir?: string;
}

/**
 * The web console on AWS: a private bucket (no public access, TLS only, SSE-S3, access-logged) behind a CloudFront
 * distribution that reads it through Origin Access Control, HTTPS only, with the SPA fallback and the same
 * security headers as the embedded server (`stack/staticSite.ts`). The built `web/dist` and a `config.json` naming
 * the API are deployed when `web/dist` exists; synth never builds it (a warning says to run `npm run build:web`).
 */
export class WebConsole extends Construct {
  readonly bucket: s3.Bucket;
  /** Access logs of the bucket (`site/`) and of the distribution (`cloudfront/`). */
  readonly accessLogs: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://<distribution domain>/`. */
  readonly url: string;
  /** Whether `web/dist` was found and is deployed. */
  readonly deployed: boolean;

  constructor(scope: Construct, id: string, props: WebConsoleProps) {
    super(scope, id);
    const policy = props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: s3.BucketEncryption.S3_MANAGED,
      // CloudFront standard logs are delivered with an ACL grant: the bucket must accept ACLs (the owner keeps them).
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(365) }],
      removalPolicy: policy,
    });
    acknowledge(this.accessLogs, 'AwsSolutions-S1', 'This is the access-log bucket itself: logging it would log into itself or need a third bucket');
    this.bucket = new s3.Bucket(this, 'Bucket', {
      serverAccessLogsBucket: this.accessLogs as s3.IBucket,
      serverAccessLogsPrefix: 'site/',
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // Public files (the console's build): SSE-S3; a KMS key would need CloudFront in its key policy for nothing.
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: policy,
    });

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Provena web console: CSP as stack/staticSite.ts, HSTS, no sniffing, no framing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: CONSOLE_CSP, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Provena web console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket as s3.IBucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
      },
      // SPA fallback: a page path has no object (S3 answers 403 to OAC for a missing key, 404 with ListBucket).
      errorResponses: [403, 404].map((httpStatus) => ({ httpStatus, responseHttpStatus: 200, responsePagePath: '/index.html', ttl: Duration.seconds(0) })),
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      enableLogging: true,
      logBucket: this.accessLogs as s3.IBucket,
      logFilePrefix: 'cloudfront/',
    });
    this.url = `https://${this.distribution.distributionDomainName}/`;
    acknowledge(this.distribution, 'AwsSolutions-CFR1', 'A public console for a global marketplace: no country is excluded (add geoRestriction per stage if law requires it)');
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR2',
      'Static files only (GET/HEAD, cached): no server-side logic to protect; the API behind it has its own stage and route throttling. Attach a web ACL (webAclId) when a stage needs rate-based blocking',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR4',
      'No custom domain is configured: the default *.cloudfront.net certificate is the only option and CloudFront fixes its TLS policy; with a domain, set a certificate and TLSv1.2_2021',
    );

    const sourceDir = props.sourceDir ?? path.join(repoRoot, 'web', 'dist');
    this.deployed = existsSync(path.join(sourceDir, 'index.html'));
    if (!this.deployed) {
      Annotations.of(this).addWarningV2(
        'provena:web-console-not-built',
        `${sourceDir} has no index.html: the console bucket stays empty. Run npm run build:web before cdk deploy.`,
      );
      return;
    }
    const config: ConsoleConfig = { apiUrl: props.apiUrl };
    // CDK's deployment handler (a Python Lambda it provides) gets its own role and log group, as every Provena
    // Lambda: no AWSLambdaBasicExecutionRole (it may write any log group).
    const logGroup = new logs.LogGroup(this, 'DeployLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: policy });
    const role = new iam.Role(this, 'DeployRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Provena web console: copies the built console into its bucket and invalidates the distribution',
    });
    logGroup.grantWrite(role);
    new s3deploy.BucketDeployment(this, 'Deploy', {
      sources: [s3deploy.Source.asset(sourceDir), s3deploy.Source.jsonData(CONSOLE_CONFIG_FILE, config)],
      destinationBucket: this.bucket as s3.IBucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      role,
      logGroup,
    });
    const why = 'CDK\'s BucketDeployment handler writes these';
    acknowledge(role, 'AwsSolutions-IAM5[Action::s3:GetBucket*]', `${why}: read the CDK asset bucket's staged console zip`);
    acknowledge(role, 'AwsSolutions-IAM5[Action::s3:GetObject*]', `${why}: read the staged console zip`);
    acknowledge(role, 'AwsSolutions-IAM5[Action::s3:List*]', `${why}: list the site bucket to prune files a new build no longer has`);
    acknowledge(role, 'AwsSolutions-IAM5[Action::s3:Abort*]', `${why}: abort its own multipart copies into the site bucket`);
    acknowledge(role, 'AwsSolutions-IAM5[Action::s3:DeleteObject*]', `${why}: prune the previous build's files from the site bucket`);
    acknowledge(role, 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]', `${why}: the CDK bootstrap asset bucket, whose object keys are content hashes`);
    acknowledge(role, `AwsSolutions-IAM5[Resource::${arnToken(this.bucket)}/*]`, 'The handler replaces the whole site: every object of the console bucket (it holds nothing else)');
    acknowledge(role, 'AwsSolutions-IAM5[Resource::*]', `${why}: cloudfront:CreateInvalidation/GetInvalidation on '*' (cache invalidation only, no data)`);
    // The handler is a stack-level singleton named by CDK.
    for (const child of Stack.of(this).node.children) {
      if (child.node.id.startsWith('Custom::CDKBucketDeployment')) {
        acknowledge(child, 'AwsSolutions-L1', 'CDK pins the Python runtime of its own BucketDeployment handler (it runs only during deploys)');
      }
    }
  }
}
