import { ArnFormat, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource, arnToken } from '../nag.js';
import type { JobQueue } from './JobQueue.js';
import { ARTIFACT_OBJECT_PREFIX } from './HttpApi.js';
import { renderUserData, WorkerLaunchSchema } from '../workerLaunch.js';

/**
 * GPU AMI: the AWS Deep Learning Base AMI (NVIDIA driver, AL2023), resolved at deploy time from its public
 * SSM parameter, so synth needs no account lookups.
 */
const GPU_AMI_PARAMETER = '/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id';

/** Props for {@link GpuWorkers}. */
export interface GpuWorkersProps {
  readonly stage: string;
  /** GPU instance types for the mixed instances policy (more types = more Spot pools = fewer interruptions). */
  readonly instanceTypes: readonly string[];
  /** USD/hour; unset caps at the on-demand price. */
  readonly maxSpotPrice?: string;
  readonly maxCapacity: number;
  readonly dataBucket: s3.Bucket;
  /** The job queue the API leases from; the instances read its depth and nothing else of it. */
  readonly jobQueue: JobQueue;
  /** The API's base URL: the agent's only way to jobs, keys and artifacts. */
  readonly apiUrl: string;
  /** `s3://bucket/key` of the worker agent tarball (`main.js` at its root); unset: instances idle. */
  readonly agentS3Uri?: string;
  /** `s3://bucket/key` of the enclave image (EIF) built by infra/worker/build.sh; unset: the pair is not started. */
  readonly eifS3Uri?: string;
  /** Settings the agent needs beside the AWS resources (chain, IPFS, key backend). */
  readonly agentEnv: Readonly<Record<string, string>>;
  /** Outside dev: debug-mode enclaves are refused and the operator key's KMS key is retained. */
  readonly production: boolean;
  /** The enclave's share of the instance. */
  readonly enclave: { readonly cpuCount: number; readonly memoryMib: number; readonly debugMode: boolean };
  /** PCR0 of the EIF: the only image the operator key's KMS key releases it to. Unset: none. */
  readonly enclavePcr0?: string;
  /** The operator key sealed under {@link GpuWorkers.operatorKey} (base64 CiphertextBlob); unset: no enclave gets one. */
  readonly operatorKeyCiphertext?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Spot GPU capacity for training workers.
 *
 * - An Auto Scaling group, min 0, 100% Spot over several GPU types (capacity-optimized, capacity rebalance),
 *   from a launch template with Nitro Enclaves on, IMDSv2 required and an encrypted root volume.
 * - Step scaling on the backlog (visible + in-flight messages), so workers exist only while there is work
 *   and an instance is not removed while the jobs it holds are in flight (in-flight counts as backlog).
 * - A minimal instance role: the job queue's depth (GetQueueAttributes, to idle out), its own job's checkpoint
 *   objects (`jobs/{jobId}/checkpoints/*`, staged on a Spot interruption notice), its log group, scale-in
 *   protection of its own group, the agent bundle and the EIF, and `kms:Decrypt` of the sealed operator key only
 *   with a Recipient attestation of the approved PCR0 (the enclave's, see workerLaunch.ts and
 *   gpu-workers/agent/nitro/boot.ts). No dataset objects, no KMS key-gate permission: data,
 *   keys and leases come from the API (signed requests, presigned URLs; keys released by KMS straight to the
 *   attested enclave with `Recipient`).
 *
 * Public subnets with no inbound rules and no NAT gateway: the agent needs outbound HTTPS (chain RPC, Kubo,
 * AWS APIs) and a NAT gateway would cost more than the idle fleet; S3 traffic goes through a free gateway
 * endpoint.
 */
export class GpuWorkers extends Construct {
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly group: autoscaling.AutoScalingGroup;
  readonly role: iam.Role;
  /** KMS key the worker operator key is sealed under; Decrypt only to an attested enclave of the approved image. */
  readonly operatorKey: kms.Key;

  constructor(scope: Construct, id: string, props: GpuWorkersProps) {
    super(scope, id);

    const queue = props.jobQueue.queue;

    // Cast: CDK's Vpc class does not satisfy its own IVpc under exactOptionalPropertyTypes (same object).
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 3,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    }) as ec2.IVpc;
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.REJECT });
    const securityGroup = new ec2.SecurityGroup(this, 'Sg', {
      vpc,
      description: 'Provena GPU workers: no inbound; outbound for AWS APIs, chain RPC and IPFS',
      allowAllOutbound: true,
    });

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Provena GPU worker instances',
    });
    queue.grant(this.role, 'sqs:GetQueueAttributes');
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [props.dataBucket.arnForObjects(`${ARTIFACT_OBJECT_PREFIX}*/checkpoints/*`)],
      }),
    );
    // SSE-KMS objects: only through S3 in this region (kms:ViaService), never the key directly.
    props.dataBucket.encryptionKey?.grant(this.role, 'kms:GenerateDataKey', 'kms:Decrypt');
    logGroup.grantWrite(this.role);
    const agent = props.agentS3Uri === undefined ? undefined : parseS3Uri(props.agentS3Uri);
    if (agent !== undefined) {
      this.role.addToPolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`arn:${Stack.of(this).partition}:s3:::${agent.bucket}/${agent.key}`] }),
      );
    }

    // The operator key (request signing; PROVENA_WORKER_OPERATORS) is sealed under this key by the operator
    // (`aws kms encrypt --encryption-context provena:purpose=worker-operator-key`); KMS releases it only as
    // CiphertextForRecipient to an enclave whose attestation shows the approved image (PCR0), in the key policy
    // itself, so neither the parent instance nor an administrator can decrypt it.
    this.operatorKey = new kms.Key(this, 'OperatorKey', {
      description: 'Provena worker operator key: released only to the attested enclave image',
      enableKeyRotation: true,
      removalPolicy: props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.operatorKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DecryptOnlyToAttestedEnclave',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: { StringNotEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': props.enclavePcr0 ?? 'none' } },
      }),
    );
    if (props.enclavePcr0 !== undefined) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'OperatorKeyToAttestedEnclave',
          actions: ['kms:Decrypt'],
          resources: [this.operatorKey.keyArn],
          conditions: {
            StringEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': props.enclavePcr0 },
            StringEquals: { 'kms:EncryptionContext:provena:purpose': 'worker-operator-key' },
          },
        }),
      );
    }
    const eif = props.eifS3Uri === undefined ? undefined : parseS3Uri(props.eifS3Uri);
    if (eif !== undefined) {
      this.role.addToPolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`arn:${Stack.of(this).partition}:s3:::${eif.bucket}/${eif.key}`] }),
      );
    }

    const userData = ec2.UserData.forLinux();
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.fromSsmParameter(GPU_AMI_PARAMETER, { os: ec2.OperatingSystemType.LINUX, userData }),
      userData,
      role: this.role,
      securityGroup,
      associatePublicIpAddress: true,
      requireImdsv2: true,
      // The agent runs on the host, not in a container: one hop is enough and keeps IMDS out of reach of
      // anything forwarded further.
      httpPutResponseHopLimit: 1,
      nitroEnclaveEnabled: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(150, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3, deleteOnTermination: true }),
        },
      ],
    });

    const [firstType, ...moreTypes] = props.instanceTypes;
    if (firstType === undefined) throw new Error('GpuWorkers needs at least one instance type');
    // A fixed name: the role's SetInstanceProtection statement and the agent's config need it, and a reference
    // to the generated name would make a cycle (launch template -> role policy / user data -> group -> template).
    const groupName = `provena-${props.stage}-gpu-workers`;
    this.group = new autoscaling.AutoScalingGroup(this, 'Group', {
      autoScalingGroupName: groupName,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      minCapacity: 0,
      maxCapacity: props.maxCapacity,
      capacityRebalance: true,
      mixedInstancesPolicy: {
        launchTemplate: this.launchTemplate,
        launchTemplateOverrides: [firstType, ...moreTypes].map((t) => ({ instanceType: new ec2.InstanceType(t) })),
        instancesDistribution: {
          onDemandBaseCapacity: 0,
          onDemandPercentageAboveBaseCapacity: 0,
          spotAllocationStrategy: autoscaling.SpotAllocationStrategy.CAPACITY_OPTIMIZED,
          ...(props.maxSpotPrice !== undefined && { spotMaxPrice: props.maxSpotPrice }),
        },
      },
    });
    Tags.of(this.group).add('Name', `provena-${props.stage}-gpu-worker`);
    acknowledge(this.group, 'AwsSolutions-EC26', 'The root volume is encrypted in the launch template (BlockDeviceMappings Ebs.Encrypted); the rule reads only launch configurations');
    acknowledge(
      this.group,
      'AwsSolutions-AS3',
      'Spot launches and interruptions are routine here; failures surface as the jobs DLQ alarm and the API/Lambda alarms, and scaling history is in the group',
    );

    acknowledgeWildcardResource(
      this.role,
      `${arnToken(props.dataBucket)}/${ARTIFACT_OBJECT_PREFIX}*/checkpoints/*`,
      'Checkpoint objects of jobs (jobs/{jobId}/checkpoints/...), staged on a Spot interruption notice; job ids are known only at run time',
    );
    acknowledgeWildcardResource(
      this.role,
      `arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/${groupName}`,
      "An Auto Scaling group's ARN holds a UUID assigned at creation; the statement names this group by its fixed name",
    );
    // The agent marks its own instance protected while training so a scale-in picks an idle one.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['autoscaling:SetInstanceProtection'],
        resources: [
          Stack.of(this).formatArn({
            service: 'autoscaling',
            resource: 'autoScalingGroup',
            resourceName: `*:autoScalingGroupName/${groupName}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );

    const backlog = new cloudwatch.MathExpression({
      label: 'Training backlog (visible + in flight)',
      expression: 'visible + inflight',
      usingMetrics: {
        visible: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        inflight: queue.metricApproximateNumberOfMessagesNotVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      },
      period: Duration.minutes(1),
    });
    const cap = (n: number): number => Math.min(n, props.maxCapacity);
    this.group.scaleOnMetric('ScaleOnBacklog', {
      metric: backlog,
      adjustmentType: autoscaling.AdjustmentType.EXACT_CAPACITY,
      // One job per worker up to the cap; 0 only once nothing is queued or in flight.
      scalingSteps: [
        { upper: 0, change: 0 },
        { lower: 1, change: cap(1) },
        { lower: 2, change: cap(2) },
        { lower: 4, change: cap(4) },
        { lower: 8, change: props.maxCapacity },
      ],
      evaluationPeriods: 3,
      estimatedInstanceWarmup: Duration.minutes(5),
    });

    const region = Stack.of(this).region;
    const bucket = props.dataBucket.bucketName;
    const env: Record<string, string> = {
      ...props.agentEnv,
      AWS_REGION: region,
      PROVENA_STAGE: props.stage,
      PROVENA_API_URL: props.apiUrl,
      PROVENA_JOB_QUEUE_URL: queue.queueUrl,
      PROVENA_BUCKET_DATA: bucket,
      PROVENA_LOG_GROUP: logGroup.logGroupName,
      PROVENA_ASG_NAME: groupName,
      PROVENA_WORKER_MODES: 'nitro',
      // The enclave's requests the parent may proxy: the API and the bucket's presigned URLs, nothing else.
      PROVENA_PARENT_PROXY_ORIGINS: [props.apiUrl, `https://${bucket}.s3.${region}.amazonaws.com`, `https://${bucket}.s3.amazonaws.com`].join(','),
      PROVENA_WORKER_OPERATOR_KMS_KEY_ID: this.operatorKey.keyArn,
      ...(props.operatorKeyCiphertext !== undefined && { PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT: props.operatorKeyCiphertext }),
    };
    // One typed configuration renders the user data, the units, the launcher and the enclave's init (workerLaunch.ts).
    const launch = WorkerLaunchSchema.parse({
      production: props.production,
      enclave: props.enclave,
      logGroup: logGroup.logGroupName,
      ...(props.agentS3Uri !== undefined && { agentS3Uri: props.agentS3Uri }),
      ...(props.eifS3Uri !== undefined && { eifS3Uri: props.eifS3Uri }),
      env,
    });
    userData.addCommands(...renderUserData(launch));
  }
}

function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (m === null || m[1] === undefined || m[2] === undefined) throw new Error(`not an s3://bucket/key URI: ${uri}`);
  return { bucket: m[1], key: m[2] };
}
