import {
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { getAddress } from 'ethers';
import { ConflictError, DependencyError, ValidationError } from '../../errors.js';
import { probeHealth } from '../probeHealth.js';
import type { IndexedEvent, JobOpenedEvent, LicensePurchasedEvent } from '../../ports/ChainEventSource.js';
import type { IndexCursor, IndexCursorStore, IndexedLicense, LicenseIndex } from '../../ports/ChainIndex.js';
import type { ComponentHealth } from '../../ports/Health.js';
import { isConditionFailed } from './dynamo.js';
import { CHAIN_INDEX_INDEXES } from './tableLayout.js';
import { mapLimit } from '../mapLimit.js';

/** Index writes in flight at once while applying one tick's events. */
export const APPLY_CONCURRENCY = 8;

const pad = (id: string) => id.padStart(78, '0');
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

async function dynamo<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (isConditionFailed(err)) throw err;
    throw new DependencyError('DEPENDENCY_FAILED', `Could not ${what}`, { cause: err });
  }
}

/** The license record's document (what {@link LicenseIndex.get} returns, less the jobs). */
type LicenseDoc = Omit<IndexedLicense, 'jobs'>;

/**
 * {@link LicenseIndex} on one DynamoDB table keyed by `rid`: `license#<id>` items (indexed by holder) and
 * `job#<id>` items (indexed by license). Each item is written once, by one PutItem conditioned on being absent or
 * written by the same log (blockHash, logIndex): the same event applied twice writes nothing new, and an event
 * of another branch claiming the id of a record not rolled back is an `INDEXER_CONFLICT`, never a silent overwrite.
 */
export class DynamoLicenseIndex implements LicenseIndex {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  private position(e: IndexedEvent): Record<string, AttributeValue> {
    return {
      chainPart: { S: 'all' },
      blockNumber: { N: String(e.blockNumber) },
      blockHash: { S: e.blockHash },
      logIndex: { N: String(e.logIndex) },
    };
  }

  private licenseItem(e: LicensePurchasedEvent): Record<string, AttributeValue> {
    const doc: LicenseDoc = {
      id: e.licenseId,
      holder: getAddress(e.lab),
      datasets: e.terms,
      budget: e.budget,
      expiry: iso(e.expiry),
      purchasedAt: iso(e.timestamp),
      purchase: { blockNumber: e.blockNumber, blockHash: e.blockHash, txHash: e.txHash },
    };
    return { rid: { S: `license#${e.licenseId}` }, holder: { S: doc.holder }, licenseKey: { S: pad(e.licenseId) }, doc: { S: JSON.stringify(doc) }, ...this.position(e) };
  }

  private jobItem(e: JobOpenedEvent): Record<string, AttributeValue> {
    const doc = { jobId: e.jobId, licenseId: e.licenseId, budget: e.budget, maxRatePerSecond: e.maxRatePerSecond, txHash: e.txHash };
    return { rid: { S: `job#${e.jobId}` }, jobLicense: { S: e.licenseId }, jobKey: { S: pad(e.jobId) }, doc: { S: JSON.stringify(doc) }, ...this.position(e) };
  }

  async apply(events: readonly IndexedEvent[]): Promise<void> {
    // Each event writes its own record (license#id, job#id), so the writes are independent: a few in flight at
    // once instead of one round trip after another. The first failure stops the rest (the cursor is not saved).
    await mapLimit(events, APPLY_CONCURRENCY, async (e) => {
      if (e.kind !== 'LicensePurchased' && e.kind !== 'JobOpened') return; // other projections' events
      const item = e.kind === 'LicensePurchased' ? this.licenseItem(e) : this.jobItem(e);
      try {
        await dynamo('write the license index', () =>
          this.client.send(
            new PutItemCommand({
              TableName: this.table,
              Item: item,
              ConditionExpression: 'attribute_not_exists(rid) OR (blockHash = :bh AND logIndex = :li)',
              ExpressionAttributeValues: { ':bh': { S: e.blockHash }, ':li': { N: String(e.logIndex) } },
            }),
          ),
        );
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        throw new ConflictError('INDEXER_CONFLICT', `${item.rid?.S} was already recorded from another log than ${e.blockHash}#${e.logIndex}`, { cause: err });
      }
    });
  }

  async rollbackAbove(blockNumber: number): Promise<number> {
    let deleted = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamo('query the license index by block', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: CHAIN_INDEX_INDEXES.byBlock.name,
            KeyConditionExpression: 'chainPart = :all AND blockNumber > :n',
            // The table also holds other projections' records (royalties): each rolls back its own.
            FilterExpression: 'begins_with(rid, :license) OR begins_with(rid, :job)',
            ExpressionAttributeValues: { ':all': { S: 'all' }, ':n': { N: String(blockNumber) }, ':license': { S: 'license#' }, ':job': { S: 'job#' } },
            ProjectionExpression: 'rid',
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        if (!item.rid) continue;
        await dynamo('roll back the license index', () => this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { rid: item.rid as AttributeValue } })));
        deleted++;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return deleted;
  }

  private async jobsOf(licenseId: string): Promise<string[]> {
    const jobs: string[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamo('query the jobs of a license', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: CHAIN_INDEX_INDEXES.byLicense.name,
            KeyConditionExpression: 'jobLicense = :l',
            ExpressionAttributeValues: { ':l': { S: licenseId } },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) if (item.doc?.S) jobs.push((JSON.parse(item.doc.S) as { jobId: string }).jobId);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return jobs;
  }

  private async withJobs(doc: LicenseDoc): Promise<IndexedLicense> {
    return { ...doc, jobs: await this.jobsOf(doc.id) };
  }

  async get(licenseId: string): Promise<IndexedLicense | undefined> {
    const r = await dynamo('read the license index', () => this.client.send(new GetItemCommand({ TableName: this.table, Key: { rid: { S: `license#${licenseId}` } } })));
    return r.Item?.doc?.S ? this.withJobs(JSON.parse(r.Item.doc.S) as LicenseDoc) : undefined;
  }

  async listByHolder(holder: string, page: { limit: number; cursor?: string }): Promise<{ items: IndexedLicense[]; nextCursor?: string }> {
    const h = getAddress(holder);
    const startKey = page.cursor === undefined ? undefined : decodeCursor(page.cursor, h);
    const r = await dynamo('list licenses by holder', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: CHAIN_INDEX_INDEXES.byHolder.name,
          KeyConditionExpression: 'holder = :h',
          ExpressionAttributeValues: { ':h': { S: h } },
          ScanIndexForward: false,
          Limit: page.limit,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      ),
    );
    const items = await Promise.all((r.Items ?? []).filter((i) => i.doc?.S).map((i) => this.withJobs(JSON.parse(i.doc?.S as string) as LicenseDoc)));
    const last = r.LastEvaluatedKey;
    return { items, ...(last ? { nextCursor: Buffer.from(JSON.stringify({ id: last.licenseKey?.S })).toString('base64url') } : {}) };
  }

  async health(): Promise<ComponentHealth> {
    return probeHealth(`dynamodb table ${this.table}`, async () => {
      await this.client.send(new DescribeTableCommand({ TableName: this.table }));
    });
  }
}

/** The opaque page cursor carries only the last license key; the holder comes from the query. */
function decodeCursor(cursor: string, holder: string): Record<string, AttributeValue> {
  try {
    const { id } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { id?: unknown };
    if (typeof id !== 'string' || !/^[0-9]{78}$/.test(id)) throw new Error('bad cursor');
    return { holder: { S: holder }, licenseKey: { S: id }, rid: { S: `license#${BigInt(id)}` } };
  } catch {
    throw new ValidationError('Invalid cursor', [{ path: ['cursor'], message: 'not a cursor from a previous page' }]);
  }
}

/** {@link IndexCursorStore} on a DynamoDB table keyed by `name`; each write is conditioned on the version it read. */
export class DynamoIndexCursorStore implements IndexCursorStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async get(name: string): Promise<IndexCursor | undefined> {
    const r = await dynamo('read the indexer cursor', () => this.client.send(new GetItemCommand({ TableName: this.table, Key: { name: { S: name } }, ConsistentRead: true })));
    return r.Item?.doc?.S ? (JSON.parse(r.Item.doc.S) as IndexCursor) : undefined;
  }

  async put(name: string, next: IndexCursor, expectedVersion: number): Promise<boolean> {
    try {
      await dynamo('write the indexer cursor', () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: { name: { S: name }, version: { N: String(next.version) }, block: { N: String(next.block) }, doc: { S: JSON.stringify(next) } },
            ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(#n)' : 'version = :v',
            ...(expectedVersion === 0 ? { ExpressionAttributeNames: { '#n': 'name' } } : { ExpressionAttributeValues: { ':v': { N: String(expectedVersion) } } }),
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async health(): Promise<ComponentHealth> {
    return probeHealth(`dynamodb table ${this.table}`, async () => {
      await this.client.send(new DescribeTableCommand({ TableName: this.table }));
    });
  }
}
