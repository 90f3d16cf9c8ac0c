/**
 * {@link JobRepo} on the `jobs` table (tableLayout.ts): one item per job, keyed by `jobId`, the record as one JSON
 * document plus the attributes the indexes read (`holder`/`submittedKey`, `status`/`updatedAt`) and `version`,
 * which every update is conditional on (single-item conditional writes only: dynalite has no transactions).
 */
import { DescribeTableCommand, GetItemCommand, PutItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { DependencyError, ProvenaError } from '../../errors.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { JobRecord, JobRepo } from '../../ports/JobRepo.js';
import type { JobStatus } from '../../schemas/job.js';
import { probeHealth } from '../probeHealth.js';
import { isConditionFailed } from './dynamo.js';
import { JOB_INDEXES } from './tableLayout.js';

const CursorKey = z.record(z.string(), z.object({ S: z.string() }));

function toItem(record: JobRecord): Record<string, AttributeValue> {
  return {
    jobId: { S: record.jobId },
    holder: { S: record.holder },
    submittedKey: { S: `${record.submittedAt}#${record.jobId.padStart(78, '0')}` },
    status: { S: record.status },
    updatedAt: { S: record.updatedAt },
    version: { N: String(record.version) },
    doc: { S: JSON.stringify(record) },
  };
}

function fromItem(item: Record<string, AttributeValue>): JobRecord {
  const doc = item.doc?.S;
  if (!doc) throw new DependencyError('DEPENDENCY_FAILED', `Job item ${item.jobId?.S ?? '?'} has no document`);
  return JSON.parse(doc) as JobRecord;
}

/** See the module comment. */
export class DynamoJobRepo implements JobRepo {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  private async send<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      if (isConditionFailed(err)) throw err;
      throw new DependencyError('DEPENDENCY_FAILED', `Could not ${what}`, { cause: err });
    }
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const r = await this.send('read the job', () => this.client.send(new GetItemCommand({ TableName: this.table, Key: { jobId: { S: jobId } }, ConsistentRead: true })));
    return r.Item ? fromItem(r.Item) : undefined;
  }

  async create(record: JobRecord): Promise<boolean> {
    try {
      await this.send('record the job', () => this.client.send(new PutItemCommand({ TableName: this.table, Item: toItem(record), ConditionExpression: 'attribute_not_exists(jobId)' })));
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async update(next: JobRecord, expectedVersion: number): Promise<boolean> {
    if (next.version !== expectedVersion + 1) throw new ProvenaError('INTERNAL', `Job ${next.jobId}: version ${next.version} does not follow ${expectedVersion}`);
    try {
      await this.send('update the job', () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: toItem(next),
            ConditionExpression: '#v = :expected',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async listByHolder(holder: string, page: { limit: number; cursor?: string }): Promise<{ items: JobRecord[]; nextCursor?: string }> {
    let start: Record<string, AttributeValue> | undefined;
    if (page.cursor !== undefined) {
      try {
        start = CursorKey.parse(JSON.parse(Buffer.from(page.cursor, 'base64url').toString('utf8')));
      } catch (err) {
        throw new ProvenaError('CURSOR_INVALID', 'Invalid pagination cursor', { cause: err, details: [{ path: ['query', 'cursor'], message: 'not a cursor from this query' }] });
      }
    }
    const r = await this.send('list jobs', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: JOB_INDEXES.byHolder.name,
          KeyConditionExpression: '#h = :h',
          ExpressionAttributeNames: { '#h': JOB_INDEXES.byHolder.pk },
          ExpressionAttributeValues: { ':h': { S: holder } },
          ScanIndexForward: false,
          Limit: page.limit,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      ),
    );
    const items = (r.Items ?? []).map(fromItem);
    return r.LastEvaluatedKey && items.length === page.limit ? { items, nextCursor: Buffer.from(JSON.stringify(r.LastEvaluatedKey)).toString('base64url') } : { items };
  }

  async listByStatus(status: JobStatus, options: { before: string; limit: number }): Promise<JobRecord[]> {
    const r = await this.send('list jobs by status', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: JOB_INDEXES.byStatus.name,
          KeyConditionExpression: '#s = :s AND #u < :before',
          ExpressionAttributeNames: { '#s': JOB_INDEXES.byStatus.pk, '#u': JOB_INDEXES.byStatus.sk },
          ExpressionAttributeValues: { ':s': { S: status }, ':before': { S: options.before } },
          ScanIndexForward: true,
          Limit: options.limit,
        }),
      ),
    );
    return (r.Items ?? []).map(fromItem);
  }

  health(): Promise<ComponentHealth> {
    return probeHealth(`dynamodb table ${this.table}`, () => this.client.send(new DescribeTableCommand({ TableName: this.table })));
  }
}
