import { randomBytes } from 'node:crypto';
import { PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DependencyError } from '../../errors.js';
import type { AttestationNonces, IssuedAttestationNonce } from '../../ports/AttestationNonces.js';
import { isConditionFailed } from './dynamo.js';

/** Partition-key prefix of attestation nonces in the shared nonces table (signed-request nonces are `<address>#<nonce>`). */
export const ATTESTATION_NONCE_PREFIX = 'attestation#';

const epoch = (d: Date): number => Math.floor(d.getTime() / 1000);

/**
 * {@link AttestationNonces} in the `nonces` table (tableLayout.ts: partition key `pk`, TTL `expiresAt`), under the
 * `attestation#` key prefix: they are the same kind of record (short-lived, single-use, replay protection), so
 * they share its TTL and retention. Issue is one conditional PutItem; consume one conditional UpdateItem that sets
 * `consumedAt` only if the nonce exists, is unused and unexpired (dynalite has no TTL: the condition filters
 * expired items), returning the job it was issued for.
 */
export class DynamoAttestationNonces implements AttestationNonces {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async issue(jobId: string, opts: { now: Date; ttlSeconds: number }): Promise<IssuedAttestationNonce> {
    const nonce = randomBytes(32).toString('hex');
    const expiresAt = epoch(opts.now) + opts.ttlSeconds;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { pk: { S: ATTESTATION_NONCE_PREFIX + nonce }, jobId: { S: jobId }, expiresAt: { N: String(expiresAt) }, issuedAt: { N: String(epoch(opts.now)) } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      // 256 random bits never collide; a failed condition here means the RNG is broken, which must not pass silently.
      throw new DependencyError('DEPENDENCY_FAILED', 'Could not record the attestation nonce', { cause: err });
    }
    return { nonce, jobId, expiresAt };
  }

  async consume(nonce: string, now: Date): Promise<{ jobId: string } | null> {
    if (!/^[0-9a-fA-F]{64}$/.test(nonce)) return null;
    try {
      const r = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: ATTESTATION_NONCE_PREFIX + nonce.toLowerCase() } },
          UpdateExpression: 'SET consumedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(consumedAt) AND expiresAt > :now',
          ExpressionAttributeValues: { ':now': { N: String(epoch(now)) } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const jobId = r.Attributes?.['jobId']?.S;
      if (jobId === undefined) throw new Error('the consumed nonce has no jobId');
      return { jobId };
    } catch (err) {
      if (isConditionFailed(err)) return null;
      throw new DependencyError('DEPENDENCY_FAILED', 'Could not consume the attestation nonce', { cause: err });
    }
  }
}
