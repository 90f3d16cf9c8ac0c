import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import {
  BatchWriteItemCommand,
  DescribeTableCommand,
  ScanCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from './dynamo.js';
import { createAndWait, ensureTables, stagingName, tableDefinitions } from './tables.js';

const server = dynalite({ path: mkdtempSync(join(tmpdir(), 'tables-')), createTableMs: 0, deleteTableMs: 0 });
let client: DynamoDBClient;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  client = createDynamoClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});
afterAll(async () => {
  client.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The uploads table as an older version created it: the same key, without its global secondary indexes. */
function olderUploads(name: string): CreateTableCommandInput {
  const [def] = tableDefinitions({ uploads: name });
  const pk = def!.KeySchema![0]!.AttributeName!;
  return { TableName: name, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: pk, AttributeType: 'S' }], KeySchema: def!.KeySchema };
}

async function fill(table: string, pk: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 25) {
    const batch = Array.from({ length: Math.min(25, count - i) }, (_, j) => ({ PutRequest: { Item: { [pk]: { S: `item-${i + j}` }, n: { N: String(i + j) } } } }));
    await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: batch } }));
  }
}

async function keys(table: string, pk: string): Promise<string[]> {
  const out: string[] = [];
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, Limit: 40 }));
    for (const item of page.Items ?? []) out.push(item[pk]!.S!);
    start = page.LastEvaluatedKey;
  } while (start);
  return out.sort();
}

async function exists(table: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
    return true;
  } catch {
    return false;
  }
}

describe('ensureTables', () => {
  it('creates a missing table, and a second call changes nothing', async () => {
    const defs = tableDefinitions({ jobs: 'jobs-a' });
    expect(await ensureTables(client, defs)).toEqual(['jobs-a']);
    expect(await ensureTables(client, defs)).toEqual([]);
  });

  it('rebuilds a table kept from an older version with the indexes it lacks, keeping every item', async () => {
    const old = olderUploads('uploads-b');
    const pk = old.KeySchema![0]!.AttributeName!;
    await createAndWait(client, old);
    await fill('uploads-b', pk, 130);
    const before = await keys('uploads-b', pk);

    expect(await ensureTables(client, tableDefinitions({ uploads: 'uploads-b' }))).toEqual(['uploads-b']);

    const table = (await client.send(new DescribeTableCommand({ TableName: 'uploads-b' }))).Table!;
    const wanted = tableDefinitions({ uploads: 'uploads-b' })[0]!.GlobalSecondaryIndexes!.map((i) => i.IndexName).sort();
    expect(wanted.length).toBeGreaterThan(0);
    expect((table.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort()).toEqual(wanted);
    expect(await keys('uploads-b', pk)).toEqual(before);
    expect(await exists(stagingName('uploads-b'))).toBe(false);
  });

  it('resumes a rebuild interrupted after the old table was deleted: the items come back from staging', async () => {
    const [def] = tableDefinitions({ uploads: 'uploads-c' });
    const pk = def!.KeySchema![0]!.AttributeName!;
    await createAndWait(client, { ...def!, TableName: stagingName('uploads-c') });
    await fill(stagingName('uploads-c'), pk, 40);

    expect(await ensureTables(client, [def!])).toEqual(['uploads-c']);
    expect(await keys('uploads-c', pk)).toHaveLength(40);
    expect(await exists(stagingName('uploads-c'))).toBe(false);
  });

  it('starts over when interrupted while copying into staging: the old table is the source, a partial staging copy is dropped', async () => {
    const old = olderUploads('uploads-d');
    const pk = old.KeySchema![0]!.AttributeName!;
    await createAndWait(client, old);
    await fill('uploads-d', pk, 60);
    const [def] = tableDefinitions({ uploads: 'uploads-d' });
    await createAndWait(client, { ...def!, TableName: stagingName('uploads-d') });
    await fill(stagingName('uploads-d'), pk, 10);

    expect(await ensureTables(client, [def!])).toEqual(['uploads-d']);
    expect(await keys('uploads-d', pk)).toHaveLength(60);
    expect(await exists(stagingName('uploads-d'))).toBe(false);
  });
});
