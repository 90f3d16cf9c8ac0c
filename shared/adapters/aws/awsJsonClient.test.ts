import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { codeOf } from '../../../test/support/errors.js';
import { AwsJsonClient } from './awsJsonClient.js';
import { relayMessage } from './SqsRelayer.js';
import { RelayCall } from '../../schemas/relay.js';

// A listener that records what arrives and answers as SQS's JSON 1.0 protocol does: the request shape is the subject.
let server: Server;
let endpoint: string;
const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
let answer: { status: number; json: Record<string, unknown> } = { status: 200, json: { MessageId: 'm-1', SequenceNumber: '1' } };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(answer.json));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const sqs = () => new AwsJsonClient({ service: 'sqs', region: 'eu-west-1', targetPrefix: 'AmazonSQS', jsonVersion: '1.0', endpoint, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } });
const call = RelayCall.parse({ idempotencyKey: 'registration:7:1', to: '0x5FbDB2315678afecb367f032d93F642f64180aa3', data: '0x12345678', gasLimit: '300000' });

describe('AwsJsonClient (SQS SendMessage, as SqsRelayer sends it)', () => {
  it('sends a SigV4-signed JSON 1.0 SendMessage with the FIFO group and deduplication id', async () => {
    const input = relayMessage('https://sqs.eu-west-1.amazonaws.com/111122223333/relay.fifo', '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc', call);

    const out = await sqs().call<{ MessageId: string }>('SendMessage', { ...input });

    const req = seen.at(-1)!;
    expect(out.MessageId).toBe('m-1');
    expect(req.headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
    expect(req.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(req.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/sqs\/aws4_request, SignedHeaders=[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$/);
    expect(JSON.parse(req.body)).toEqual({ ...input, MessageGroupId: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC' });
  });

  it('maps a service error to DEPENDENCY_FAILED naming its type', async () => {
    answer = { status: 400, json: { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' } };
    const p = sqs().call('SendMessage', { QueueUrl: 'x', MessageBody: '{}' });

    expect(await codeOf(p)).toBe('DEPENDENCY_FAILED');
    await expect(sqs().call('SendMessage', {})).rejects.toMatchObject({ type: 'QueueDoesNotExist', httpStatus: 400 });
    answer = { status: 200, json: { MessageId: 'm-1' } };
  });
});
