/**
 * The DynamoDB table layouts, as CreateTable inputs. The embedded stack creates them in dynalite; the CDK
 * construct (infra/lib/constructs/DataTables.ts) declares the same keys and indexes.
 */
import { CreateTableCommand, DescribeTableCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DATASET_INDEXES } from './DynamoDatasetRepo.js';
import { RELAY_JOURNAL_INDEXES } from './DynamoRelayJournal.js';

/** Logical table -> its CreateTable input (without the name). */
export function tableDefinitions(names: { datasets: string; nonces: string; idempotency: string; uploads: string; relayJournal?: string }): CreateTableCommandInput[] {
  const gsi = (i: { name: string; pk: string; sk: string }) => ({
    IndexName: i.name,
    KeySchema: [
      { AttributeName: i.pk, KeyType: 'HASH' as const },
      { AttributeName: i.sk, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  const relayJournal: CreateTableCommandInput[] = names.relayJournal
    ? [
        {
          TableName: names.relayJournal,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'id', AttributeType: 'S' },
            { AttributeName: 'pendingRelayer', AttributeType: 'S' },
            { AttributeName: 'nonce', AttributeType: 'N' },
          ],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          GlobalSecondaryIndexes: [gsi(RELAY_JOURNAL_INDEXES.pendingByNonce)],
        },
      ]
    : [];
  return [
    ...relayJournal,
    {
      TableName: names.datasets,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'status', AttributeType: 'S' },
        { AttributeName: 'owner', AttributeType: 'S' },
        { AttributeName: 'createdAtId', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [gsi(DATASET_INDEXES.byStatus), gsi(DATASET_INDEXES.byOwner)],
    },
    {
      TableName: names.nonces,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    },
    {
      TableName: names.uploads,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'uploadId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'uploadId', KeyType: 'HASH' }],
    },
    {
      TableName: names.idempotency,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    },
  ];
}

/** Creates each table that does not exist yet (idempotent; used at embedded start). */
export async function ensureTables(client: DynamoDBClient, defs: CreateTableCommandInput[]): Promise<string[]> {
  const created: string[] = [];
  for (const def of defs) {
    try {
      await client.send(new DescribeTableCommand({ TableName: def.TableName }));
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ResourceNotFoundException')) throw err;
      await client.send(new CreateTableCommand(def));
      created.push(def.TableName as string);
    }
  }
  return created;
}
