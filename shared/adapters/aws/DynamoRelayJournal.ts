import { DescribeTableCommand, GetItemCommand, PutItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { getAddress } from 'ethers';
import { DependencyError } from '../../errors.js';
import { probeHealth } from '../probeHealth.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { RelayJournal } from '../../ports/RelayJournal.js';
import type { RelayAttempt, RelayEntry, RelayFailure, RelayReceipt } from '../../schemas/relay.js';
import { isConditionFailed } from './dynamo.js';
import { RELAY_JOURNAL_INDEXES } from './tableLayout.js';

/**
 * The sparse index of pending entries: an item carries `pendingRelayer` only while its call is pending, so the
 * index holds exactly what a restarted relayer must look at, in nonce order.
 */

/**
 * {@link RelayJournal} on a DynamoDB table keyed by `id` (S) = `relayer#idempotencyKey`. The entry is one JSON
 * document (`doc`) beside the attributes that conditions and the index read (`state`, `version`, `nonce`,
 * `pendingRelayer`). Every change is one PutItem conditioned on the version it read (dynalite has no transactions).
 */
export class DynamoRelayJournal implements RelayJournal {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  private id(relayer: string, key: string): string {
    return `${getAddress(relayer)}#${key}`;
  }

  private item(entry: RelayEntry): Record<string, AttributeValue> {
    return {
      id: { S: this.id(entry.relayer, entry.idempotencyKey) },
      state: { S: entry.state },
      version: { N: String(entry.version) },
      doc: { S: JSON.stringify(entry) },
      ...(entry.nonce === undefined ? {} : { nonce: { N: String(entry.nonce) } }),
      ...(entry.state === 'pending' ? { pendingRelayer: { S: getAddress(entry.relayer) } } : {}),
    };
  }

  async get(relayer: string, idempotencyKey: string): Promise<RelayEntry | undefined> {
    try {
      const r = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { id: { S: this.id(relayer, idempotencyKey) } }, ConsistentRead: true }));
      return r.Item?.doc?.S ? (JSON.parse(r.Item.doc.S) as RelayEntry) : undefined;
    } catch (err) {
      throw new DependencyError('DEPENDENCY_FAILED', 'Could not read the relay journal', { cause: err });
    }
  }

  async create(entry: RelayEntry): Promise<boolean> {
    return this.put(entry, 'attribute_not_exists(id) OR #state = :failed', { ':failed': { S: 'failed' } });
  }

  /** Writes `next` if the stored entry is still pending at `version`. */
  private replace(next: RelayEntry, version: number): Promise<boolean> {
    return this.put(next, '#state = :pending AND version = :v', { ':pending': { S: 'pending' }, ':v': { N: String(version) } });
  }

  private async put(entry: RelayEntry, condition: string, values: Record<string, AttributeValue>): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: this.item(entry),
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw new DependencyError('DEPENDENCY_FAILED', 'Could not write the relay journal', { cause: err });
    }
  }

  /** Reads the pending entry, applies `change`, writes it back; retries a lost race while the entry stays pending. */
  private async update(relayer: string, key: string, change: (e: RelayEntry) => RelayEntry, expectedVersion?: number): Promise<boolean> {
    for (let tries = 0; tries < 5; tries++) {
      const current = await this.get(relayer, key);
      if (!current || current.state !== 'pending') return false;
      if (expectedVersion !== undefined && current.version !== expectedVersion) return false;
      const next = { ...change(current), version: current.version + 1, updatedAt: Date.now() };
      if (await this.replace(next, current.version)) return true;
    }
    return false;
  }

  addAttempt(relayer: string, idempotencyKey: string, attempt: RelayAttempt, expectedVersion: number): Promise<boolean> {
    return this.update(relayer, idempotencyKey, (e) => ({ ...e, attempts: [...e.attempts, attempt] }), expectedVersion);
  }

  complete(relayer: string, idempotencyKey: string, receipt: RelayReceipt): Promise<boolean> {
    return this.update(relayer, idempotencyKey, (e) => ({ ...e, state: 'mined', receipt }));
  }

  close(relayer: string, idempotencyKey: string, state: 'dropped' | 'failed', error: RelayFailure): Promise<boolean> {
    return this.update(relayer, idempotencyKey, (e) => ({ ...e, state, error }));
  }

  async pending(relayer: string): Promise<RelayEntry[]> {
    const out: RelayEntry[] = [];
    let start: Record<string, AttributeValue> | undefined;
    try {
      do {
        const r = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: RELAY_JOURNAL_INDEXES.pendingByNonce.name,
            KeyConditionExpression: 'pendingRelayer = :r',
            ExpressionAttributeValues: { ':r': { S: getAddress(relayer) } },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of r.Items ?? []) if (item.doc?.S) out.push(JSON.parse(item.doc.S) as RelayEntry);
        start = r.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      throw new DependencyError('DEPENDENCY_FAILED', 'Could not read the relay journal', { cause: err });
    }
    // The index is eventually consistent on AWS: re-read each entry so a just-mined one is not taken for pending.
    const fresh = await Promise.all(out.map((e) => this.get(e.relayer, e.idempotencyKey)));
    return fresh.filter((e): e is RelayEntry => e?.state === 'pending').sort((a, b) => (a.nonce ?? 0) - (b.nonce ?? 0));
  }

  health(): Promise<ComponentHealth> {
    return probeHealth(`dynamodb table ${this.table}`, () => this.client.send(new DescribeTableCommand({ TableName: this.table })));
  }
}
