/**
 * {@link RoyaltyIndex} in the chain index table (single-table: beside the license records). Each event is one item
 * keyed by what identifies its log across reorgs, `accrual#<blockHash>#<logIndex>` / `claim#<blockHash>#<logIndex>`,
 * so applying the same event twice writes the same item. Accruals are found by dataset through the `byLicense`
 * index (`jobLicense = dataset#<id>`), claims by recipient through `byHolder` (`holder = claims#<address>`): keys no
 * license or job record can take. Every item carries its block number (`byBlock`) for rollbacks.
 */
import { DeleteItemCommand, PutItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { getAddress } from 'ethers';
import { DependencyError } from '../../errors.js';
import type { IndexedEvent, RoyaltiesClaimedEvent, RoyaltyAccruedEvent } from '../../ports/ChainEventSource.js';
import type { IndexedAccrual, IndexedClaim, RoyaltyIndex } from '../../ports/ChainIndex.js';
import { mapLimit } from '../mapLimit.js';
import { APPLY_CONCURRENCY } from './DynamoChainIndex.js';
import { isConditionFailed } from './dynamo.js';
import { CHAIN_INDEX_INDEXES } from './tableLayout.js';

/** Sort key: block then log index, zero-padded (string order = chain order). */
const order = (e: { blockNumber: number; logIndex: number }) => `${String(e.blockNumber).padStart(12, '0')}#${String(e.logIndex).padStart(6, '0')}`;

async function dynamo<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw new DependencyError('DEPENDENCY_FAILED', `Could not ${what}`, { cause: err });
  }
}

export class DynamoRoyaltyIndex implements RoyaltyIndex {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  private item(e: RoyaltyAccruedEvent | RoyaltiesClaimedEvent): Record<string, AttributeValue> {
    const position = { chainPart: { S: 'all' }, blockNumber: { N: String(e.blockNumber) }, blockHash: { S: e.blockHash }, logIndex: { N: String(e.logIndex) } };
    if (e.kind === 'RoyaltyAccrued') {
      const doc: IndexedAccrual = { datasetId: e.datasetId, jobId: e.jobId, cumulativeSamples: e.cumulativeSamples, amount: e.amount, txHash: e.txHash, blockNumber: e.blockNumber, logIndex: e.logIndex, timestamp: e.timestamp };
      return { rid: { S: `accrual#${e.blockHash}#${e.logIndex}` }, jobLicense: { S: `dataset#${e.datasetId}` }, jobKey: { S: order(e) }, doc: { S: JSON.stringify(doc) }, ...position };
    }
    const doc: IndexedClaim = { recipient: getAddress(e.recipient), to: getAddress(e.to), amount: e.amount, txHash: e.txHash, blockNumber: e.blockNumber, logIndex: e.logIndex, timestamp: e.timestamp };
    return { rid: { S: `claim#${e.blockHash}#${e.logIndex}` }, holder: { S: `claims#${doc.recipient}` }, licenseKey: { S: order(e) }, doc: { S: JSON.stringify(doc) }, ...position };
  }

  async apply(events: readonly IndexedEvent[]): Promise<void> {
    // Each event writes its own item, so the writes are independent: a few in flight at once (as the license index
    // does) instead of one round trip after another. The first failure stops the rest (the cursor is not saved).
    await mapLimit(events, APPLY_CONCURRENCY, async (e) => {
      if (e.kind !== 'RoyaltyAccrued' && e.kind !== 'RoyaltiesClaimed') return;
      const item = this.item(e);
      try {
        // The key is the log's own identity: a second write of the same event is the same item (no condition can fail
        // but a corrupted one, which is reported).
        await this.client.send(new PutItemCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(rid) OR doc = :doc', ExpressionAttributeValues: { ':doc': item.doc as AttributeValue } }));
      } catch (err) {
        if (isConditionFailed(err)) throw new DependencyError('DEPENDENCY_FAILED', `${item.rid?.S} holds another record than its log's`, { cause: err });
        throw new DependencyError('DEPENDENCY_FAILED', 'Could not write the royalty index', { cause: err });
      }
    });
  }

  async rollbackAbove(blockNumber: number): Promise<number> {
    let deleted = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamo('query the royalty index by block', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: CHAIN_INDEX_INDEXES.byBlock.name,
            KeyConditionExpression: 'chainPart = :all AND blockNumber > :n',
            FilterExpression: 'begins_with(rid, :accrual) OR begins_with(rid, :claim)',
            ExpressionAttributeValues: { ':all': { S: 'all' }, ':n': { N: String(blockNumber) }, ':accrual': { S: 'accrual#' }, ':claim': { S: 'claim#' } },
            ProjectionExpression: 'rid',
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        if (!item.rid) continue;
        await dynamo('roll back the royalty index', () => this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { rid: item.rid as AttributeValue } })));
        deleted++;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return deleted;
  }

  private async query<T>(index: string, pk: string, value: string): Promise<T[]> {
    const out: T[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamo('read the royalty index', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: index,
            KeyConditionExpression: `${pk} = :v`,
            ExpressionAttributeValues: { ':v': { S: value } },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) if (item.doc?.S) out.push(JSON.parse(item.doc.S) as T);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

  accrualsOf(datasetId: string): Promise<IndexedAccrual[]> {
    return this.query<IndexedAccrual>(CHAIN_INDEX_INDEXES.byLicense.name, 'jobLicense', `dataset#${datasetId}`);
  }

  claimsOf(recipient: string): Promise<IndexedClaim[]> {
    return this.query<IndexedClaim>(CHAIN_INDEX_INDEXES.byHolder.name, 'holder', `claims#${getAddress(recipient)}`);
  }
}
