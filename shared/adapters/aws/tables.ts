/**
 * CreateTable inputs built from the one table layout ({@link TABLES}); the embedded stack creates them in
 * dynalite. The CDK construct builds its tables from the same layout.
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ScanCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
  type AttributeValue,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TableDescription,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { TABLES, type IndexLayout, type TableName } from './tableLayout.js';

/** CreateTable inputs of the tables named in `names` (logical table -> physical name); others are left out. */
export function tableDefinitions(names: Partial<Record<TableName, string>>): CreateTableCommandInput[] {
  return (Object.keys(TABLES) as TableName[]).filter((logical) => names[logical] !== undefined).map((logical) => {
    const t = TABLES[logical];
    const attrs = new Map<string, 'S' | 'N'>([[t.pk, 'S']]);
    for (const i of t.indexes as readonly IndexLayout[]) attrs.set(i.pk, 'S').set(i.sk, i.skType ?? 'S');
    return {
      TableName: names[logical],
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attrs].map(([a, type]) => ({ AttributeName: a, AttributeType: type })),
      KeySchema: [{ AttributeName: t.pk, KeyType: 'HASH' as const }],
      ...(t.indexes.length
        ? {
            GlobalSecondaryIndexes: t.indexes.map((i) => ({
              IndexName: i.name,
              KeySchema: [
                { AttributeName: i.pk, KeyType: 'HASH' as const },
                { AttributeName: i.sk, KeyType: 'RANGE' as const },
              ],
              Projection: { ProjectionType: 'ALL' as const },
            })),
          }
        : {}),
    };
  });
}

/**
 * Creates each table that does not exist yet, and rebuilds a table whose global secondary indexes lag behind its
 * definition (a store kept from an older version). Used at embedded start: dynalite cannot add an index to an existing
 * table, so the rebuild copies the items through a staging table `NAME.rebuild`; each step is idempotent and a start
 * interrupted midway resumes from what it finds (staging present, main table missing or already rebuilt), so no item
 * is lost. Returns the tables created or rebuilt.
 */
export async function ensureTables(client: DynamoDBClient, defs: CreateTableCommandInput[]): Promise<string[]> {
  const created: string[] = [];
  for (const def of defs) {
    const name = def.TableName as string;
    const staging = stagingName(name);
    const main = await describe(client, name);
    const stage = await describe(client, staging);
    if (stage) {
      // A rebuild was interrupted. Main missing: it was deleted after the copy to staging completed. Main present with
      // the new indexes: it was recreated and is being refilled. Main present without them: the copy to staging may
      // be partial, so start over from main.
      if (!main) await createAndWait(client, def);
      if (!main || missingIndexes(main, def).length === 0) {
        await copyItems(client, staging, name);
        await deleteAndWait(client, staging);
        created.push(name);
        continue;
      }
      await deleteAndWait(client, staging);
    }
    if (!main) {
      await createAndWait(client, def);
      created.push(name);
    } else if (missingIndexes(main, def).length > 0) {
      await createAndWait(client, { ...def, TableName: staging });
      await copyItems(client, name, staging);
      await deleteAndWait(client, name);
      await createAndWait(client, def);
      await copyItems(client, staging, name);
      await deleteAndWait(client, staging);
      created.push(name);
    }
  }
  return created;
}

/** The staging table of a rebuild. */
export function stagingName(table: string): string {
  return `${table}.rebuild`;
}

/** Index names of `def` that the existing table lacks. */
function missingIndexes(table: TableDescription, def: CreateTableCommandInput): string[] {
  const have = new Set((table.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  return (def.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName as string).filter((n) => !have.has(n));
}

async function describe(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (err) {
    if (err instanceof Error && err.name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

/** Creates a table and waits until it is ACTIVE (a write before that is refused ResourceNotFoundException). */
export async function createAndWait(client: DynamoDBClient, def: CreateTableCommandInput): Promise<void> {
  await client.send(new CreateTableCommand(def));
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1 }, { TableName: def.TableName });
}

async function deleteAndWait(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: name }));
  await waitUntilTableNotExists({ client, maxWaitTime: 60, minDelay: 1 }, { TableName: name });
}

/** Copies every item of `from` into `to` (puts are idempotent, so a repeated copy is harmless). */
async function copyItems(client: DynamoDBClient, from: string, to: string): Promise<void> {
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: from, ExclusiveStartKey: start }));
    const items = page.Items ?? [];
    for (let i = 0; i < items.length; i += 25) {
      let pending: WriteRequest[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 20) throw new Error(`ensureTables: copying ${from} to ${to}: writes still unprocessed after 20 tries`);
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [to]: pending } }));
        pending = out.UnprocessedItems?.[to] ?? [];
        if (pending.length) await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
      }
    }
    start = page.LastEvaluatedKey;
  } while (start);
}
