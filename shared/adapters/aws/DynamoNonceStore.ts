import { DescribeTableCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DependencyError } from '../../errors.js';
import { probeHealth } from '../probeHealth.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { NonceStore } from '../../ports/NonceStore.js';
import { isConditionFailed } from './dynamo.js';

/**
 * {@link NonceStore} on a DynamoDB table with partition key `pk` (S) and TTL attribute `expiresAt` (N).
 * One conditional PutItem per nonce: the write succeeds only if no unexpired entry exists.
 */
export class DynamoNonceStore implements NonceStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  async consume(scope: string, nonce: string, expiresAt: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { pk: { S: `${scope.toLowerCase()}#${nonce.toLowerCase()}` }, expiresAt: { N: String(expiresAt) } },
          // dynalite has no TTL: an expired record is "absent" for this write.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': { N: String(this.now()) } },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw new DependencyError('DEPENDENCY_FAILED', 'Could not record the request nonce', { cause: err });
    }
  }

  health(): Promise<ComponentHealth> {
    return probeHealth(`dynamodb table ${this.table}`, () => this.client.send(new DescribeTableCommand({ TableName: this.table })));
  }
}
