import { DescribeTableCommand, GetItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConflictError, DependencyError } from '../../errors.js';
import { probeHealth } from '../probeHealth.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { StoredUpload, UploadRepo } from '../../ports/UploadRepo.js';
import { isConditionFailed } from './dynamo.js';

/** {@link UploadRepo} on a DynamoDB table keyed by `uploadId` (S); the session is one JSON document. */
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
          Item: { uploadId: { S: upload.uploadId }, status: { S: upload.status }, doc: { S: JSON.stringify(upload) } },
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
          UpdateExpression: 'SET #s = :done',
          ConditionExpression: '#s = :open',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':done': { S: 'completed' }, ':open': { S: 'open' } },
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw new ConflictError('CONFLICT', `Upload ${uploadId} is not open`, { cause: err });
      throw new DependencyError('DEPENDENCY_FAILED', 'Could not complete the upload', { cause: err });
    }
  }

  health(): Promise<ComponentHealth> {
    return probeHealth(`dynamodb table ${this.table}`, () => this.client.send(new DescribeTableCommand({ TableName: this.table })));
  }
}
