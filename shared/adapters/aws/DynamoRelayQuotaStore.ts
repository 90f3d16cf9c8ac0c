import { DescribeTableCommand, GetItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DependencyError } from '../../errors.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { RelayQuotaStore, RelaySlot } from '../../ports/RelayQuotaStore.js';
import { probeHealth } from '../probeHealth.js';
import { isConditionFailed } from './dynamo.js';
import { TABLES } from './tableLayout.js';

const PK = TABLES.relayQuota.pk;

/** Optimistic-concurrency retries of one address's window before giving up (contention from one address only). */
const MAX_ATTEMPTS = 8;

/**
 * {@link RelayQuotaStore} on the `relayQuota` table (partition key `quotaKey`, TTL `expiresAt`):
 * - `addr#<address>`: `calls` (list of epoch ms) and `rev`, replaced whole with `rev = :rev` (a sliding log of at
 *   most `limit` entries; entries older than the window are dropped on every write, so dynalite needs no TTL);
 * - `budget#<period>`: `spent` (N), raised with `ADD` under `spent <= budget - amount`.
 */
export class DynamoRelayQuotaStore implements RelayQuotaStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  private async window(address: string): Promise<{ calls: number[]; rev: number | undefined }> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { [PK]: { S: `addr#${address.toLowerCase()}` } }, ConsistentRead: true }));
    const calls = (out.Item?.calls?.L ?? []).map((v) => Number(v.N));
    const rev = out.Item?.rev?.N === undefined ? undefined : Number(out.Item.rev.N);
    return { calls, rev };
  }

  /** Replaces the window iff nobody else did since it was read; false on a lost race. */
  private async replaceWindow(address: string, calls: number[], rev: number | undefined, expiresAtSeconds: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            [PK]: { S: `addr#${address.toLowerCase()}` },
            calls: { L: calls.map((c) => ({ N: String(c) })) },
            rev: { N: String((rev ?? 0) + 1) },
            expiresAt: { N: String(expiresAtSeconds) },
          },
          ...(rev === undefined
            ? { ConditionExpression: `attribute_not_exists(${PK})` }
            : { ConditionExpression: 'rev = :rev', ExpressionAttributeValues: { ':rev': { N: String(rev) } } }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async takeSlot(address: string, nowMs: number, windowMs: number, limit: number): Promise<RelaySlot | { retryAfterMs: number }> {
    return this.call('take a relay quota slot', async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const { calls, rev } = await this.window(address);
        const live = calls.filter((c) => c > nowMs - windowMs).sort((a, b) => a - b);
        if (live.length >= limit) return { retryAfterMs: Math.max(1, (live[live.length - limit] as number) + windowMs - nowMs) };
        // Two slots of one address in the same millisecond would be indistinguishable on release.
        const atMs = Math.max(nowMs, (live[live.length - 1] ?? -1) + 1);
        if (await this.replaceWindow(address, [...live, atMs], rev, Math.ceil((atMs + windowMs) / 1000))) return { address, atMs };
      }
      throw new Error(`the quota window of ${address} kept changing under ${MAX_ATTEMPTS} attempts`);
    });
  }

  async releaseSlot(slot: RelaySlot, windowMs: number): Promise<void> {
    await this.call('release a relay quota slot', async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const { calls, rev } = await this.window(slot.address);
        if (!calls.includes(slot.atMs)) return;
        const rest = calls.filter((c) => c !== slot.atMs);
        if (await this.replaceWindow(slot.address, rest, rev, Math.ceil((Math.max(slot.atMs, ...rest) + windowMs) / 1000))) return;
      }
      throw new Error(`the quota window of ${slot.address} kept changing under ${MAX_ATTEMPTS} attempts`);
    });
  }

  async spend(period: string, amount: bigint, budget: bigint, expiresAtSeconds: number): Promise<boolean> {
    if (amount > budget) return false;
    return this.call('spend from the relayer budget', async () => {
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { [PK]: { S: `budget#${period}` } },
            UpdateExpression: 'ADD spent :amount SET expiresAt = :exp',
            ConditionExpression: 'attribute_not_exists(spent) OR spent <= :max',
            ExpressionAttributeValues: { ':amount': { N: amount.toString() }, ':max': { N: (budget - amount).toString() }, ':exp': { N: String(expiresAtSeconds) } },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailed(err)) return false;
        throw err;
      }
    });
  }

  async refund(period: string, amount: bigint): Promise<void> {
    await this.call('refund the relayer budget', async () => {
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { [PK]: { S: `budget#${period}` } },
            UpdateExpression: 'ADD spent :neg',
            ConditionExpression: 'spent >= :amount',
            ExpressionAttributeValues: { ':neg': { N: (-amount).toString() }, ':amount': { N: amount.toString() } },
          }),
        );
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
    });
  }

  health(): Promise<ComponentHealth> {
    return probeHealth(`dynamodb table ${this.table}`, () => this.client.send(new DescribeTableCommand({ TableName: this.table })));
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new DependencyError('DEPENDENCY_FAILED', `Could not ${what}`, { cause: err });
    }
  }
}
