/**
 * CreateTable inputs built from the one table layout ({@link TABLES}); the embedded stack creates them in
 * dynalite. The CDK construct builds its tables from the same layout.
 */
import { CreateTableCommand, DescribeTableCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
