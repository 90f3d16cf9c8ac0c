/**
 * Test fixture for the relayer: Hardhat's in-process chain and a dynalite journal on a free port. Test-only.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { getChain, type Chain } from '../../contracts/test/helpers/chain.js';
import { createDynamoClient } from '../../shared/adapters/aws/dynamo.js';
import { DynamoRelayJournal } from '../../shared/adapters/aws/DynamoRelayJournal.js';
import { ensureTables, tableDefinitions } from '../../shared/adapters/aws/tables.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../stack/embeddedDynamo.js';
import { EvmRelayer, type EvmRelayerOptions } from '../../shared/adapters/chain/EvmRelayer.js';

export const RELAY_TABLE = 'relay-journal';
export const RELAY_QUOTA_TABLE = 'relay-quota';

export interface RelayerFixture {
  chain: Chain;
  dynamo: EmbeddedDynamo;
  client: DynamoDBClient;
  journal: DynamoRelayJournal;
  /** A relayer over the shared chain and journal; the test stops it. */
  relayer(privateKey: string, overrides?: Partial<EvmRelayerOptions>): EvmRelayer;
  mine(): Promise<void>;
  automine(on: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function relayerFixture(): Promise<RelayerFixture> {
  const chain = await getChain();
  const dynamo = await startEmbeddedDynamo({ dir: mkdtempSync(join(tmpdir(), 'provena-relayer-')), port: 0 });
  const client = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
  const defs = tableDefinitions({ relayJournal: RELAY_TABLE, relayQuota: RELAY_QUOTA_TABLE });
  await ensureTables(client, defs);
  const journal = new DynamoRelayJournal(client, RELAY_TABLE);
  const started: EvmRelayer[] = [];
  return {
    chain,
    dynamo,
    client,
    journal,
    relayer(privateKey, overrides = {}) {
      const r = new EvmRelayer({ provider: chain.provider, privateKey, chainId: Number(chain.chainId), journal, pollIntervalMs: 20, ...overrides });
      started.push(r);
      return r;
    },
    mine: async () => {
      await chain.rpc('evm_mine');
    },
    automine: async (on) => {
      await chain.rpc('evm_setAutomine', [on]);
    },
    close: async () => {
      for (const r of started) r.stop();
      await chain.rpc('evm_setAutomine', [true]);
      client.destroy();
      await dynamo.close();
    },
  };
}

/** Polls `probe` until it returns true (every 10 ms, up to `timeoutMs`). */
export async function until(probe: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
