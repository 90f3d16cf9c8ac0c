/**
 * A small SQS stand-in speaking the JSON 1.0 protocol (`POST /`, `X-Amz-Target: AmazonSQS.<Action>`,
 * `application/x-amz-json-1.0`) for SendMessage, ReceiveMessage, ChangeMessageVisibility, DeleteMessage and
 * GetQueueAttributes, with SQS's visibility semantics (an InProcessJobQueue underneath) and SQS's error shapes
 * (`{"__type": "com.amazonaws.sqs#…", "message": …}`). It checks that each request carries a SigV4
 * `Authorization` header scoped to `sqs` in its region and names the one queue it serves; the signature itself is
 * checked against AWS's own signer in the adapter's unit test.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InProcessJobQueue } from '../../shared/adapters/local/InProcessJobQueue.js';

/** A running fake: its endpoint and queue URL, the requests it saw, and `close`. */
export interface FakeSqs {
  endpoint: string;
  queueUrl: string;
  requests: { target: string; authorization: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

const error = (type: string, message: string) => JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message });

/** Starts a fake SQS on 127.0.0.1 for `region`, serving one queue. */
export async function startFakeSqs(region = 'us-east-1'): Promise<FakeSqs> {
  const queue = new InProcessJobQueue({ pollIntervalMs: 10 });
  const requests: FakeSqs['requests'] = [];
  let queueUrl = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const send = (status: number, body: string) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(body);
        };
        const target = String(req.headers['x-amz-target'] ?? '');
        const authorization = String(req.headers.authorization ?? '');
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          return send(400, error('InvalidParameterValue', 'body is not JSON'));
        }
        requests.push({ target, authorization, body });
        if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-amz-json-1.0') return send(400, error('InvalidParameterValue', 'not JSON 1.0'));
        if (!new RegExp(`^AWS4-HMAC-SHA256 Credential=[^/]+/\\d{8}/${region}/sqs/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`).test(authorization)) {
          return send(403, error('IncompleteSignature', 'missing or malformed SigV4 authorization'));
        }
        if (body.QueueUrl !== queueUrl) return send(400, error('QueueDoesNotExist', 'The specified queue does not exist.'));
        try {
          switch (target) {
            case 'AmazonSQS.SendMessage': {
              const { messageId } = await queue.send(JSON.parse(String(body.MessageBody)) as { jobId: string }, { delaySeconds: Number(body.DelaySeconds ?? 0) });
              return send(200, JSON.stringify({ MessageId: messageId, MD5OfMessageBody: '' }));
            }
            case 'AmazonSQS.ReceiveMessage': {
              const m = await queue.receive({ waitSeconds: Number(body.WaitTimeSeconds ?? 0), visibilitySeconds: Number(body.VisibilityTimeout ?? 30) });
              return send(200, JSON.stringify(m ? { Messages: [{ MessageId: m.messageId, ReceiptHandle: m.receiptHandle, Body: JSON.stringify(m.body), Attributes: { ApproximateReceiveCount: String(m.receiveCount) } }] } : {}));
            }
            case 'AmazonSQS.ChangeMessageVisibility':
              await queue.changeVisibility(String(body.ReceiptHandle), Number(body.VisibilityTimeout));
              return send(200, '{}');
            case 'AmazonSQS.DeleteMessage':
              await queue.delete(String(body.ReceiptHandle));
              return send(200, '{}');
            case 'AmazonSQS.GetQueueAttributes':
              return send(200, JSON.stringify({ Attributes: { ApproximateNumberOfMessages: String(queue.size) } }));
            default:
              return send(400, error('InvalidAction', `unknown action ${target}`));
          }
        } catch (err) {
          if ((err as { code?: string }).code === 'JOB_QUEUE_HANDLE_INVALID') return send(400, error('MessageNotInflight', 'The message referred to is not in flight.'));
          return send(500, error('InternalError', String(err)));
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  queueUrl = `${endpoint}/000000000000/provena-jobs`;
  return {
    endpoint,
    queueUrl,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
