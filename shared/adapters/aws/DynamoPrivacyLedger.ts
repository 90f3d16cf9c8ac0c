import { UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DependencyError } from '../../errors.js';
import type { PrivacyLedger } from '../../ports/PrivacyLedger.js';
import { isConditionFailed } from './dynamo.js';

/**
 * The ledger's attributes on a listing's item in the datasets table, in micro-epsilon integers (exact arithmetic,
 * and DynamoDB conditions cannot add: `committed` = spent + reserved is kept as one counter so a reservation's
 * condition is `committed <= budget - epsilon`). The listing document never holds them, so a listing edit keeps them.
 */
export const PRIVACY_ATTRIBUTES = { committed: 'epsilonCommittedMicro', spent: 'epsilonSpentMicro' } as const;

const MICRO = 1_000_000;
/** Epsilon → micro-epsilon (rounded to 1e-6). */
export const toMicro = (epsilon: number): number => Math.round(epsilon * MICRO);
/** Micro-epsilon → epsilon. */
export const fromMicro = (micro: number): number => micro / MICRO;

/** The ledger as {@link DynamoDatasetRepo} reads it from an item (zero when never written). */
export function ledgerOf(item: Record<string, AttributeValue>): { epsilonSpent: number; epsilonReserved: number } | undefined {
  const committed = item[PRIVACY_ATTRIBUTES.committed]?.N;
  if (committed === undefined) return undefined;
  const spent = Number(item[PRIVACY_ATTRIBUTES.spent]?.N ?? '0');
  return { epsilonSpent: fromMicro(spent), epsilonReserved: fromMicro(Number(committed) - spent) };
}

/** {@link PrivacyLedger} on the datasets table: single conditional UpdateItems (no transactions on dynalite). */
export class DynamoPrivacyLedger implements PrivacyLedger {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async reserve(datasetId: string, epsilon: number, budget: number): Promise<boolean> {
    const e = toMicro(epsilon);
    const limit = toMicro(budget) - e;
    if (limit < 0) return false;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { id: { S: datasetId } },
          UpdateExpression: 'SET #c = if_not_exists(#c, :zero) + :e',
          ConditionExpression: 'attribute_exists(id) AND (attribute_not_exists(#c) OR #c <= :limit)',
          ExpressionAttributeNames: { '#c': PRIVACY_ATTRIBUTES.committed },
          ExpressionAttributeValues: { ':zero': { N: '0' }, ':e': { N: String(e) }, ':limit': { N: String(limit) } },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw new DependencyError('DEPENDENCY_FAILED', `Could not reserve privacy budget of dataset ${datasetId}`, { cause: err });
    }
  }

  async settle(datasetId: string, reserved: number, spent: number): Promise<void> {
    const r = toMicro(reserved);
    const s = Math.min(r, Math.max(0, toMicro(spent)));
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { id: { S: datasetId } },
          UpdateExpression: 'SET #c = #c - :unused, #s = if_not_exists(#s, :zero) + :spent',
          ConditionExpression: 'attribute_exists(#c)',
          ExpressionAttributeNames: { '#c': PRIVACY_ATTRIBUTES.committed, '#s': PRIVACY_ATTRIBUTES.spent },
          ExpressionAttributeValues: { ':zero': { N: '0' }, ':unused': { N: String(r - s) }, ':spent': { N: String(s) } },
        }),
      );
    } catch (err) {
      throw new DependencyError('DEPENDENCY_FAILED', `Could not settle privacy budget of dataset ${datasetId}`, { cause: err });
    }
  }
}
