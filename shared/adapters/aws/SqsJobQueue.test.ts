import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignatureV4 } from '@smithy/signature-v4';
import { startFakeSqs, type FakeSqs } from '../../../test/support/fakeSqs.js';
import { signSqsRequest, SqsJobQueue } from './SqsJobQueue.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
let sqs: FakeSqs;
let queue: SqsJobQueue;
const codeOf = async (p: Promise<unknown>) => p.then(() => 'OK', (e: { code?: string }) => e.code ?? String(e));

const bytes = (d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** node:crypto as the SDK signer's hash (HMAC when given a secret). */
class Sha256 {
  private readonly h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.h.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

beforeAll(async () => {
  sqs = await startFakeSqs('eu-west-1');
  queue = new SqsJobQueue({ queueUrl: sqs.queueUrl, region: 'eu-west-1', credentials: () => credentials });
});
afterAll(() => sqs.close());

describe('SqsJobQueue (JSON 1.0 protocol)', () => {
  it("signs exactly as AWS's own SigV4 signer does", async () => {
    const url = new URL('https://sqs.eu-west-1.amazonaws.com/');
    const body = '{"QueueUrl":"https://sqs.eu-west-1.amazonaws.com/1/q","MaxNumberOfMessages":1}';
    const now = new Date('2026-11-28T08:30:00Z');
    const mine = signSqsRequest(url, body, { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ReceiveMessage' }, credentials, 'eu-west-1', now);
    const signer = new SignatureV4({ credentials, region: 'eu-west-1', service: 'sqs', sha256: Sha256, applyChecksum: false });
    const theirs = await signer.sign(
      { method: 'POST', protocol: 'https:', hostname: url.hostname, path: '/', headers: { host: url.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ReceiveMessage' }, body },
      { signingDate: now },
    );
    expect(mine.authorization).toBe(theirs.headers.authorization);
  });

  it('sends, receives with a visibility timeout, and deletes', async () => {
    await queue.send({ jobId: '41' });
    const m = await queue.receive({ waitSeconds: 0, visibilitySeconds: 30 });
    expect(m).toMatchObject({ body: { jobId: '41' }, receiveCount: 1 });
    expect(await queue.receive({ waitSeconds: 0, visibilitySeconds: 30 })).toBeUndefined();
    await queue.delete(m?.receiptHandle as string);
    expect(sqs.requests.map((r) => r.target)).toEqual(['AmazonSQS.SendMessage', 'AmazonSQS.ReceiveMessage', 'AmazonSQS.ReceiveMessage', 'AmazonSQS.DeleteMessage']);
    expect(sqs.requests[1]?.body).toMatchObject({ QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0, VisibilityTimeout: 30 });
  });

  it('makes a message visible at once with changeVisibility 0, under a new receipt handle and count', async () => {
    await queue.send({ jobId: '42' });
    const first = await queue.receive({ waitSeconds: 0, visibilitySeconds: 30 });
    await queue.changeVisibility(first?.receiptHandle as string, 0);
    const second = await queue.receive({ waitSeconds: 0, visibilitySeconds: 30 });
    expect(second).toMatchObject({ messageId: first?.messageId, receiveCount: 2 });
    expect(await codeOf(queue.changeVisibility(first?.receiptHandle as string, 10))).toBe('JOB_QUEUE_HANDLE_INVALID');
    await queue.delete(second?.receiptHandle as string);
  });

  it("answers a queue error other than a stale handle as DEPENDENCY_FAILED", async () => {
    const wrong = new SqsJobQueue({ queueUrl: `${sqs.endpoint}/000000000000/missing`, region: 'eu-west-1', credentials: () => credentials });
    expect(await codeOf(wrong.send({ jobId: '1' }))).toBe('DEPENDENCY_FAILED');
    expect((await wrong.health()).status).toBe('down');
    expect((await queue.health()).status).toBe('ok');
  });
});
