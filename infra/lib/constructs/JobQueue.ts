import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Props for {@link JobQueue}. */
export interface JobQueueProps {
  /**
   * How long a received job stays invisible before another worker may lease it: the lease length the API hands
   * out (`PROVENA_JOB_LEASE_SECONDS`); the worker's heartbeat (through the API) extends it. @default 900
   */
  readonly leaseSeconds?: number;
}

/**
 * The training-job queue (`PROVENA_JOB_QUEUE_URL`): SQS standard, SSE, TLS only, dead-lettered after three
 * receives. The API is its only client: `submitJob` sends (jobQueue `send`), the lease routes receive, change
 * visibility and delete on the worker's behalf (jobQueue `consume`); workers never hold SQS credentials for it.
 * Standard, not FIFO: jobs are independent, the jobs table's fencing token makes a duplicate delivery harmless,
 * and FIFO's per-group ordering would only serialise unrelated jobs.
 */
export class JobQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: JobQueueProps = {}) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.leaseSeconds ?? 900),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 3 },
    });
  }
}
