/**
 * What stands in for AWS Secrets Manager in tests (no emulator here): an in-process HTTP server answering
 * `secretsmanager.GetSecretValue` in the service's JSON 1.1 protocol, refusing unsigned requests as AWS does
 * (an `Authorization: AWS4-HMAC-SHA256 Credential=…/secretsmanager/aws4_request` header is required) and unknown
 * secrets with `ResourceNotFoundException`. Not imitated: IAM, versions and stages, rotation, KMS.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake received. */
export interface FakeSecretsCall {
  target: string;
  body: Record<string, unknown>;
  authorization: string;
}

/** The fake. Put secrets with {@link FakeSecretsManager.put}. */
export class FakeSecretsManager {
  readonly calls: FakeSecretsCall[] = [];
  private readonly secrets = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<FakeSecretsManager> {
    let fake: FakeSecretsManager | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const authorization = String(req.headers['authorization'] ?? '');
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        fake?.calls.push({ target, body, authorization });
        const answer = (status: number, json: Record<string, unknown>) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(json));
        };
        if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/secretsmanager\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.test(authorization)) {
          return answer(403, { __type: 'IncompleteSignatureException', message: 'the request is not signed with SigV4 for secretsmanager' });
        }
        if (target !== 'secretsmanager.GetSecretValue' || req.headers['content-type'] !== 'application/x-amz-json-1.1') {
          return answer(400, { __type: 'InvalidRequestException', message: `unsupported ${target}` });
        }
        const value = fake?.secrets.get(String(body.SecretId));
        if (value === undefined) return answer(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
        return answer(200, { ARN: body.SecretId, Name: String(body.SecretId).split(':').pop(), SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeSecretsManager(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return fake;
  }

  put(arn: string, secretString: string): void {
    this.secrets.set(arn, secretString);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
