import { DescribeTableCommand, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { ConflictError, DependencyError, ProvenaError } from '../../errors.js';
import { probeHealth } from '../probeHealth.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { StoredUpload, UploadRepo } from '../../ports/UploadRepo.js';
import { isConditionFailed } from './dynamo.js';
import { UPLOAD_INDEXES } from './tableLayout.js';

const CursorKey = z.record(z.string(), z.object({ S: z.string() }));
const INDEX = UPLOAD_INDEXES.openByOwner;

/**
 * {@link UploadRepo} on a DynamoDB table keyed by `uploadId` (S); the session is one JSON document. Open sessions
 * carry the sparse index's keys (`openOwner`, `createdAtId`); completing removes `openOwner`.
 */
export class DynamoUploadRepo implements UploadRepo {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async create(upload: StoredUpload): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            uploadId: { S: upload.uploadId },
            status: { S: upload.status },
            doc: { S: JSON.stringify(upload) },
            ...(upload.status === 'open' ? { [INDEX.pk]: { S: upload.owner }, [INDEX.sk]: { S: `${upload.createdAt}#${upload.uploadId}` } } : {}),
          },
          ConditionExpression: 'attribute_not_exists(uploadId)',
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw new ConflictError('CONFLICT', `Upload ${upload.uploadId} exists`, { cause: err });
      throw new DependencyError('DEPENDENCY_FAILED', 'Could not record the upload', { cause: err });
    }
  }

  async get(uploadId: string): Promise<StoredUpload | undefined> {
    let r;
    try {
      r = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { uploadId: { S: uploadId } }, ConsistentRead: true }));
    } catch (err) {
      throw new DependencyError('DEPENDENCY_FAILED', 'Could not read the upload', { cause: err });
    }
    if (!r.Item?.doc?.S) return undefined;
    const upload = JSON.parse(r.Item.doc.S) as StoredUpload;
    return { ...upload, status: r.Item.status?.S === 'completed' ? 'completed' : 'open' };
  }

  async markCompleted(uploadId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { uploadId: { S: uploadId } },
          UpdateExpression: 'SET #s = :done REMOVE #o',
          ConditionExpression: '#s = :open',
          ExpressionAttributeNames: { '#s': 'status', '#o': INDEX.pk },
          ExpressionAttributeValues: { ':done': { S: 'completed' }, ':open': { S: 'open' } },
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw new ConflictError('CONFLICT', `Upload ${uploadId} is not open`, { cause: err });
      throw new DependencyError('DEPENDENCY_FAILED', 'Could not complete the upload', { cause: err });
    }
  }

  async listOpenByOwner(owner: string, page: { limit: number; cursor?: string; now: Date }): Promise<{ items: StoredUpload[]; nextCursor?: string }> {
    let start: Record<string, AttributeValue> | undefined;
    if (page.cursor !== undefined) {
      try {
        start = CursorKey.parse(JSON.parse(Buffer.from(page.cursor, 'base64url').toString('utf8')));
      } catch (err) {
        throw new ProvenaError('CURSOR_INVALID', 'Invalid pagination cursor', { cause: err, details: [{ path: ['query', 'cursor'], message: 'not a cursor from this query' }] });
      }
    }
    let r;
    try {
      r = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: INDEX.name,
          KeyConditionExpression: '#o = :o',
          ExpressionAttributeNames: { '#o': INDEX.pk },
          ExpressionAttributeValues: { ':o': { S: owner } },
          ScanIndexForward: false,
          Limit: page.limit,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
    } catch (err) {
      throw new DependencyError('DEPENDENCY_FAILED', 'Could not list the uploads', { cause: err });
    }
    // TTL-less stores (dynalite) and DynamoDB alike: an expired session is filtered out on read.
    const now = page.now.toISOString();
    const items = (r.Items ?? [])
      .flatMap((i) => (i.doc?.S ? [{ ...(JSON.parse(i.doc.S) as StoredUpload), status: 'open' as const }] : []))
      .filter((u) => u.expiresAt > now);
    return r.LastEvaluatedKey ? { items, nextCursor: Buffer.from(JSON.stringify(r.LastEvaluatedKey)).toString('base64url') } : { items };
  }

  health(): Promise<ComponentHealth> {
    return probeHealth(`dynamodb table ${this.table}`, () => this.client.send(new DescribeTableCommand({ TableName: this.table })));
  }
}
