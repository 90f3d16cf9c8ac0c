/**
 * {@link JobQueue} on an SQS standard queue, over SQS's JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Action>`,
 * `application/x-amz-json-1.0`) with fetch and a SigV4 signature computed here: the project has no
 * `@aws-sdk/client-sqs`, and these four calls are all it needs. Credentials come from the Lambda environment
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) unless passed in.
 */
import { createHash, createHmac } from 'node:crypto';
import { ConflictError, DependencyError } from '../../errors.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { JobMessageBody, JobQueue, ReceivedJobMessage } from '../../ports/JobQueue.js';

/** AWS credentials (a session token with temporary ones). */
export interface SqsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Options of an {@link SqsJobQueue}. */
export interface SqsJobQueueOptions {
  queueUrl: string;
  region: string;
  /** Default: the `AWS_*` environment variables, read at each call (Lambda rotates them). */
  credentials?: () => SqsCredentials | Promise<SqsCredentials>;
  /** Where to send the calls. Default: the queue URL's origin. */
  endpoint?: string;
  fetch?: typeof fetch;
}

const HANDLE_ERRORS = ['ReceiptHandleIsInvalid', 'MessageNotInflight', 'InvalidParameterValue'];

function envCredentials(): SqsCredentials {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new DependencyError('DEPENDENCY_FAILED', 'No AWS credentials in the environment for SQS');
  return { accessKeyId, secretAccessKey, ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}) };
}

const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

/** SigV4 headers for a POST of `body` to `url` (service `sqs`). */
export function signSqsRequest(url: URL, body: string, headers: Record<string, string>, credentials: SqsCredentials, region: string, now: Date): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const all: Record<string, string> = { ...headers, host: url.host, 'x-amz-date': amzDate, ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}) };
  const names = Object.keys(all).map((k) => k.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const canonical = ['POST', url.pathname || '/', '', ...names.map((n) => `${n}:${lower[n]}`), '', names.join(';'), sha256Hex(body)].join('\n');
  const scope = `${day}/${region}/sqs/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), 'sqs'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return { ...all, authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}

/** See the module comment. */
export class SqsJobQueue implements JobQueue {
  private readonly endpoint: URL;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: SqsJobQueueOptions) {
    this.endpoint = new URL(options.endpoint ?? new URL(options.queueUrl).origin + '/');
    this.fetch = options.fetch ?? fetch;
  }

  private async call<T>(action: string, input: Record<string, unknown>): Promise<T> {
    const body = JSON.stringify({ QueueUrl: this.options.queueUrl, ...input });
    const credentials = await (this.options.credentials ?? envCredentials)();
    const headers = signSqsRequest(this.endpoint, body, { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${action}` }, credentials, this.options.region, new Date());
    let res: Response;
    try {
      res = await this.fetch(this.endpoint, { method: 'POST', headers, body });
    } catch (err) {
      throw new DependencyError('DEPENDENCY_FAILED', `SQS ${action} failed`, { cause: err });
    }
    const text = await res.text();
    const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (!res.ok) {
      const type = String(json.__type ?? json.code ?? 'Unknown').replace(/^.*#/, '');
      const message = String(json.message ?? json.Message ?? text);
      if (HANDLE_ERRORS.includes(type) && /handle|inflight|in flight/i.test(`${type} ${message}`)) {
        throw new ConflictError('JOB_QUEUE_HANDLE_INVALID', `SQS ${action}: ${type}: ${message}`);
      }
      throw new DependencyError('DEPENDENCY_FAILED', `SQS ${action} answered ${res.status} ${type}: ${message}`);
    }
    return json as T;
  }

  async send(body: JobMessageBody, options: { delaySeconds?: number } = {}): Promise<{ messageId: string }> {
    const out = await this.call<{ MessageId: string }>('SendMessage', { MessageBody: JSON.stringify(body), ...(options.delaySeconds ? { DelaySeconds: options.delaySeconds } : {}) });
    return { messageId: out.MessageId };
  }

  async receive(options: { waitSeconds: number; visibilitySeconds: number }): Promise<ReceivedJobMessage | undefined> {
    const out = await this.call<{ Messages?: { MessageId: string; ReceiptHandle: string; Body: string; Attributes?: Record<string, string> }[] }>('ReceiveMessage', {
      MaxNumberOfMessages: 1,
      WaitTimeSeconds: options.waitSeconds,
      VisibilityTimeout: options.visibilitySeconds,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    });
    const m = out.Messages?.[0];
    if (!m) return undefined;
    let body: JobMessageBody;
    try {
      const parsed = JSON.parse(m.Body) as { jobId?: unknown };
      if (typeof parsed.jobId !== 'string') throw new Error('no jobId');
      body = { jobId: parsed.jobId };
    } catch {
      // Not ours (a malformed message would otherwise come back forever): drop it.
      await this.delete(m.ReceiptHandle);
      return undefined;
    }
    return { messageId: m.MessageId, receiptHandle: m.ReceiptHandle, body, receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? '1') };
  }

  async changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    await this.call('ChangeMessageVisibility', { ReceiptHandle: receiptHandle, VisibilityTimeout: seconds });
  }

  async delete(receiptHandle: string): Promise<void> {
    await this.call('DeleteMessage', { ReceiptHandle: receiptHandle });
  }

  async health(): Promise<ComponentHealth> {
    try {
      await this.call('GetQueueAttributes', { AttributeNames: ['ApproximateNumberOfMessages'] });
      return { status: 'ok', detail: 'sqs job queue' };
    } catch (err) {
      return { status: 'down', detail: 'sqs job queue', error: err instanceof Error ? err.message : String(err) };
    }
  }
}
