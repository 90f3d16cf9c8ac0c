/**
 * A minimal client for AWS's JSON protocols (`X-Amz-Target`, SigV4), for the two calls the cloud relayer makes
 * whose service clients are not dependencies: Secrets Manager `GetSecretValue` (JSON 1.1) at the consumer's cold
 * start and SQS `SendMessage` (JSON 1.0) from the API's relaying routes. Signing is the SDK's own
 * (`@smithy/signature-v4`, credentials from the SDK's default provider chain), so a request is what the service
 * clients would send. Swap for `@aws-sdk/client-secrets-manager` / `@aws-sdk/client-sqs` when they are added.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { DependencyError } from '../../errors.js';

/** SHA-256 (or HMAC-SHA-256 with a secret) in the shape SigV4 asks for. */
type Source = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Source): string | Uint8Array => (typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: Source) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Source): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.h.digest();
  }
}

/** Settings of one service's {@link AwsJsonClient}. */
export interface AwsJsonClientOptions {
  /** Signing name: `secretsmanager`, `sqs`. */
  service: string;
  region: string;
  /** `X-Amz-Target` prefix: `secretsmanager`, `AmazonSQS`. */
  targetPrefix: string;
  /** `1.0` (SQS) or `1.1` (Secrets Manager). */
  jsonVersion: '1.0' | '1.1';
  /** Endpoint override (tests); default `https://<service>.<region>.amazonaws.com`. */
  endpoint?: string;
  /** Credentials override (tests); default the SDK's provider chain (the Lambda role's). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** An AWS error answer: its `__type` (short name) and message. */
export class AwsServiceError extends DependencyError {
  constructor(
    readonly type: string,
    message: string,
    readonly httpStatus: number,
  ) {
    super('DEPENDENCY_FAILED', `${type}: ${message}`);
  }
}

/** Signs and sends JSON-protocol operations of one AWS service. */
export class AwsJsonClient {
  private readonly signer: SignatureV4;
  private readonly url: URL;

  constructor(private readonly options: AwsJsonClientOptions) {
    this.url = new URL(options.endpoint ?? `https://${options.service}.${options.region}.amazonaws.com/`);
    this.signer = new SignatureV4({ service: options.service, region: options.region, sha256: Sha256, credentials: options.credentials ?? defaultProvider() });
  }

  /** Calls `operation` with `input`; resolves to the JSON answer, rejects with {@link AwsServiceError}. */
  async call<T>(operation: string, input: Record<string, unknown>): Promise<T> {
    const body = JSON.stringify(input);
    const request = {
      method: 'POST',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      ...(this.url.port ? { port: Number(this.url.port) } : {}),
      path: this.url.pathname,
      query: {},
      headers: {
        host: this.url.host,
        'content-type': `application/x-amz-json-${this.options.jsonVersion}`,
        'x-amz-target': `${this.options.targetPrefix}.${operation}`,
      },
      body,
    };
    const signed = await this.signer.sign(request);
    const res = await fetch(this.url, { method: 'POST', headers: signed.headers as Record<string, string>, body });
    const text = await res.text();
    const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (!res.ok) {
      const type = String(json.__type ?? res.headers.get('x-amzn-errortype') ?? 'UnknownError').split('#').pop() as string;
      throw new AwsServiceError(type, String(json.message ?? json.Message ?? res.statusText), res.status);
    }
    return json as T;
  }
}
