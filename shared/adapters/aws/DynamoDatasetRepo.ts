import {
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { ConflictError, DependencyError, ProvenaError } from '../../errors.js';
import type { DatasetRepo, StoredDataset } from '../../ports/DatasetRepo.js';
import { probeHealth } from '../probeHealth.js';
import type { ComponentHealth } from '../../ports/Health.js';
import { Dataset, type DatasetListQuery, type DatasetPage } from '../../schemas/dataset.js';
import { isConditionFailed } from './dynamo.js';
import { ledgerOf } from './DynamoPrivacyLedger.js';
import { DATASET_INDEXES } from './tableLayout.js';

/** Index names and key attributes; infra/lib/constructs/DataTables.ts creates the same. */

const Cursor = z.object({ i: z.enum(['byStatus', 'byOwner']), k: z.record(z.string(), z.object({ S: z.string() })) });

/** Most items one list call reads before it returns a partial page with a cursor (bounds filtered scans). */
const MAX_ITEMS_READ_PER_CALL = 1000;

function toItem(dataset: Dataset, idempotencyHash?: string): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    id: { S: dataset.id },
    owner: { S: dataset.owner },
    status: { S: dataset.status },
    createdAtId: { S: `${dataset.createdAt}#${dataset.id}` },
    version: { N: String(dataset.version) },
    searchText: { S: [dataset.title, dataset.description, ...dataset.tags].join(' ').toLowerCase() },
    doc: { S: JSON.stringify(dataset) },
  };
  // DynamoDB forbids empty sets.
  if (dataset.tags.length > 0) item.tags = { SS: [...new Set(dataset.tags)] };
  if (idempotencyHash) item.idempotencyHash = { S: idempotencyHash };
  return item;
}

function fromItem(item: Record<string, AttributeValue>): StoredDataset {
  const doc = item.doc?.S;
  if (!doc) throw new DependencyError('DEPENDENCY_FAILED', `Dataset item ${item.id?.S ?? '?'} has no document`);
  const dataset = Dataset.parse(JSON.parse(doc));
  const hash = item.idempotencyHash?.S;
  const privacyLedger = ledgerOf(item);
  return { dataset, ...(hash ? { idempotencyHash: hash } : {}), ...(privacyLedger ? { privacyLedger } : {}) };
}

function encodeCursor(index: keyof typeof DATASET_INDEXES, key: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify({ i: index, k: key })).toString('base64url');
}

function decodeCursor(cursor: string, index: keyof typeof DATASET_INDEXES): Record<string, AttributeValue> {
  try {
    const c = Cursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (c.i !== index) throw new Error('cursor belongs to another filter');
    return c.k;
  } catch (err) {
    throw new ProvenaError('CURSOR_INVALID', 'Invalid pagination cursor', { details: [{ path: ['query', 'cursor'], message: 'not a cursor from this listing query' }], cause: err });
  }
}

/**
 * {@link DatasetRepo} on DynamoDB. Each listing is one item holding the full document as JSON, plus the
 * attributes the indexes and filters use. Writes are single conditional PutItems (dynalite has no
 * transactions, and none are needed).
 */
export class DynamoDatasetRepo implements DatasetRepo {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async get(id: string): Promise<StoredDataset | undefined> {
    const r = await this.call('read a dataset', () =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: { id: { S: id } }, ConsistentRead: true })),
    );
    return r.Item ? fromItem(r.Item) : undefined;
  }

  async create(dataset: Dataset, options: { idempotencyHash?: string } = {}): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: toItem(dataset, options.idempotencyHash),
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw new ConflictError('CONFLICT', `Dataset ${dataset.id} already exists`, { cause: err });
      throw new DependencyError('DEPENDENCY_FAILED', 'Could not write the dataset', { cause: err });
    }
  }

  async replace(dataset: Dataset, expectedVersion: number): Promise<void> {
    // An UpdateItem of every listing attribute, not a PutItem: it keeps `idempotencyHash` (set at create) without
    // reading the item first.
    const { idempotencyHash: _none, id: _id, ...attrs } = toItem(dataset);
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = { ':expected': { N: String(expectedVersion) } };
    const sets = Object.entries(attrs).map(([k, v], i) => {
      names[`#a${i}`] = k;
      values[`:a${i}`] = v;
      return `#a${i} = :a${i}`;
    });
    names['#version'] = 'version';
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { id: { S: dataset.id } },
          // toItem leaves out `tags` when there are none (DynamoDB has no empty sets): remove the old ones then.
          UpdateExpression: `SET ${sets.join(', ')}${attrs.tags ? '' : ' REMOVE tags'}`,
          ConditionExpression: 'attribute_exists(id) AND #version = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) {
        throw new ConflictError('VERSION_CONFLICT', `Dataset ${dataset.id} changed since version ${expectedVersion}; read it again`, { cause: err });
      }
      throw new DependencyError('DEPENDENCY_FAILED', 'Could not write the dataset', { cause: err });
    }
  }

  async list(query: DatasetListQuery): Promise<DatasetPage> {
    const index = query.owner ? 'byOwner' : 'byStatus';
    const names: Record<string, string> = { '#pk': DATASET_INDEXES[index].pk };
    const values: Record<string, AttributeValue> = { ':pk': { S: query.owner ?? query.status } };
    const filters: string[] = [];
    if (query.owner) {
      names['#status'] = 'status';
      values[':status'] = { S: query.status };
      filters.push('#status = :status');
    }
    if (query.tag) {
      values[':tag'] = { S: query.tag };
      filters.push('contains(tags, :tag)');
    }
    if (query.q) {
      values[':q'] = { S: query.q.toLowerCase() };
      filters.push('contains(searchText, :q)');
    }

    const items: Dataset[] = [];
    let startKey = query.cursor ? decodeCursor(query.cursor, index) : undefined;
    let read = 0;
    for (;;) {
      const r = await this.call('list datasets', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: DATASET_INDEXES[index].name,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
            ScanIndexForward: false,
            Limit: query.limit + 1,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      read += r.ScannedCount ?? 0;
      for (const item of r.Items ?? []) {
        if (items.length === query.limit) {
          // A further match exists: the page is full and the next one starts after its last item.
          const last = items[items.length - 1] as Dataset;
          return { items, nextCursor: encodeCursor(index, this.keyOf(index, last)) };
        }
        items.push(fromItem(item).dataset);
      }
      startKey = r.LastEvaluatedKey;
      if (!startKey) return { items };
      if (read >= MAX_ITEMS_READ_PER_CALL) {
        // Sparse filter: hand back what we have and where to resume rather than scan without bound.
        return { items, nextCursor: encodeCursor(index, startKey) };
      }
    }
  }

  health(): Promise<ComponentHealth> {
    return probeHealth(`dynamodb table ${this.table}`, () => this.client.send(new DescribeTableCommand({ TableName: this.table })));
  }

  private keyOf(index: keyof typeof DATASET_INDEXES, d: Dataset): Record<string, AttributeValue> {
    return {
      id: { S: d.id },
      [DATASET_INDEXES[index].pk]: { S: index === 'byOwner' ? d.owner : d.status },
      createdAtId: { S: `${d.createdAt}#${d.id}` },
    };
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new DependencyError('DEPENDENCY_FAILED', `Could not ${what}`, { cause: err });
    }
  }
}
