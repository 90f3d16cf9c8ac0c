/**
 * The single-writer relayer against Hardhat's in-process chain and a dynalite journal: concurrency, a restart in
 * the middle, fee bumps, idempotency keys, and the errors it answers. Each test relays from its own dev account,
 * so nonces of one test never touch another's; recipients are fresh addresses, so a balance counts deliveries.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Wallet, type Provider } from 'ethers';
import { ProvenaError } from '../../errors.js';
import type { RelayJournal } from '../../ports/RelayJournal.js';
import type { RelayCall, RelayEntry } from '../../schemas/relay.js';
import { codeOf } from '../../../test/support/errors.js';
import { deploySystem } from '../../../contracts/test/helpers/fixture.js';
import { devAccountKey } from '../../../stack/embeddedChain.js';
import { bumped } from './EvmRelayer.js';
import { PROVENA_ERROR_ABI } from './provenaErrors.js';
import { relayerFixture, until, type RelayerFixture } from '../../../test/support/relayerFixture.js';

let fx: RelayerFixture;
let provider: Provider;

beforeAll(async () => {
  fx = await relayerFixture();
  provider = fx.chain.provider;
});
afterAll(async () => {
  await fx?.close();
});

function transfers(prefix: string, n: number): RelayCall[] {
  return Array.from({ length: n }, (_, i) => ({ to: Wallet.createRandom().address, data: '0x', value: String(1000 + i), idempotencyKey: `${prefix}:${i}` }));
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

async function expectDeliveredOnce(calls: RelayCall[]): Promise<void> {
  const balances = await Promise.all(calls.map((c) => provider.getBalance(c.to)));
  expect(balances.map(String)).toEqual(calls.map((c) => c.value));
}

describe('EvmRelayer', () => {
  it('mines 50 concurrent calls with 50 distinct consecutive nonces', async () => {
    const relayer = fx.relayer(devAccountKey(10));
    await relayer.start();
    const first = await provider.getTransactionCount(relayer.address, 'latest');
    const calls = transfers('concurrent', 50);

    const handles = await Promise.all(calls.map((c) => relayer.submit(c)));
    const receipts = await Promise.all(handles.map((h) => h.wait({ timeoutMs: 30_000 })));

    expect(receipts.every((r) => r.status === 'success')).toBe(true);
    expect(receipts.map((r) => r.nonce).sort((a, b) => a - b)).toEqual(range(first, 50));
    expect(new Set(receipts.map((r) => r.txHash)).size).toBe(50);
    expect(await provider.getTransactionCount(relayer.address, 'latest')).toBe(first + 50);
    await expectDeliveredOnce(calls);
    expect(await fx.journal.pending(relayer.address)).toEqual([]);
    relayer.stop();
  });

  it('loses and duplicates nothing when killed mid-stream and restarted over the same journal', async () => {
    const key = devAccountKey(11);
    const calls = transfers('restart', 40);
    await fx.automine(false);
    // The 8th journal write "crashes" the instance: that call is journaled but never broadcast.
    let writes = 0;
    let kill = () => {};
    const crashing: RelayJournal = Object.assign(Object.create(fx.journal) as RelayJournal, {
      create: async (entry: RelayEntry) => {
        const ok = await fx.journal.create(entry);
        if (++writes === 8) {
          kill();
          throw new Error('killed between the journal write and the broadcast');
        }
        return ok;
      },
    });
    const a = fx.relayer(key, { journal: crashing });
    kill = () => a.stop();
    await a.start();
    const first = await provider.getTransactionCount(a.address, 'latest');

    const outcomes = await Promise.allSettled(calls.map((c) => a.submit(c)));
    const sent = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [{ i, handle: o.value }] : []));
    const stopped = outcomes.filter((o) => o.status === 'rejected' && (o.reason as ProvenaError).code === 'RELAYER_STOPPED');
    expect(sent.length).toBe(7);
    expect(stopped.length).toBe(32);
    // The node also lost one broadcast transaction (the third) from its mempool.
    const lost = sent[2]?.handle.txHash as string;
    expect(await fx.chain.rpc('hardhat_dropTransaction', [lost])).toBe(true);
    expect(await provider.getTransactionCount(a.address, 'latest')).toBe(first); // nothing mined yet

    // A new instance over the same journal; the client retries every call with its idempotency key.
    const b = fx.relayer(key);
    await b.start();
    const handles = await Promise.all(calls.map((c) => b.submit(c)));
    for (const { i, handle } of sent) expect([handles[i]?.nonce, handles[i]?.txHash]).toEqual([handle.nonce, handle.txHash]);
    await fx.automine(true);
    await fx.mine();
    const receipts = await Promise.all(handles.map((h) => h.wait({ timeoutMs: 30_000 })));

    expect(receipts.every((r) => r.status === 'success')).toBe(true);
    expect(receipts.map((r) => r.nonce).sort((x, y) => x - y)).toEqual(range(first, 40));
    expect(await provider.getTransactionCount(b.address, 'latest')).toBe(first + 40);
    await expectDeliveredOnce(calls);
    expect(await fx.journal.pending(b.address)).toEqual([]);
    b.stop();
  });

  it('replaces a stuck transaction with fees raised by at least 12.5%, and the replacement mines', async () => {
    await fx.automine(false);
    const relayer = fx.relayer(devAccountKey(12), { bumpAfterMs: 300 });
    await relayer.start();
    const [call] = transfers('bump', 1) as [RelayCall];
    const handle = await relayer.submit(call);

    await until(async () => ((await fx.journal.get(relayer.address, call.idempotencyKey))?.attempts.length ?? 0) >= 2);
    // The attempt is journaled before it is broadcast: mine only once the node holds the replacement, or the
    // original (still the only one in its pool) is what mines.
    const journaled = (await fx.journal.get(relayer.address, call.idempotencyKey)) as RelayEntry;
    const firstReplacement = journaled.attempts[1]?.hash as string;
    await until(async () => (await provider.getTransaction(firstReplacement)) !== null);
    await fx.automine(true);
    await fx.mine();
    const receipt = await handle.wait({ timeoutMs: 20_000 });

    const entry = (await fx.journal.get(relayer.address, call.idempotencyKey)) as RelayEntry;
    const [original, replacement] = entry.attempts as [RelayEntry['attempts'][0], RelayEntry['attempts'][0]];
    expect(BigInt(replacement.maxFeePerGas)).toBeGreaterThanOrEqual(bumped(BigInt(original.maxFeePerGas)));
    expect(BigInt(replacement.maxPriorityFeePerGas)).toBeGreaterThanOrEqual(bumped(BigInt(original.maxPriorityFeePerGas)));
    expect(entry.attempts.slice(1).map((a) => a.hash)).toContain(receipt.txHash);
    expect(await provider.getTransactionReceipt(original.hash)).toBeNull();
    expect(entry.state).toBe('mined');
    expect(entry.receipt?.txHash).toBe(receipt.txHash);
    await expectDeliveredOnce([call]);
    relayer.stop();
  });

  it('sends one transaction for an idempotency key submitted twice, at once or later', async () => {
    const relayer = fx.relayer(devAccountKey(13));
    await relayer.start();
    const first = await provider.getTransactionCount(relayer.address, 'latest');
    const [call] = transfers('twice', 1) as [RelayCall];

    const [h1, h2] = await Promise.all([relayer.submit(call), relayer.submit(call)]);
    const r1 = await h1.wait({ timeoutMs: 10_000 });
    const h3 = await relayer.submit(call);

    expect([h2.txHash, h3.txHash]).toEqual([h1.txHash, h1.txHash]);
    expect(await h3.wait()).toEqual(r1);
    expect(await provider.getTransactionCount(relayer.address, 'latest')).toBe(first + 1);
    await expectDeliveredOnce([call]);
    relayer.stop();
  });

  it('refuses a call that reverts with RELAYER_REVERTED naming the custom error, and sends nothing', async () => {
    const system = await deploySystem();
    const relayer = fx.relayer(devAccountKey(14), { errorAbi: PROVENA_ERROR_ABI });
    await relayer.start();
    const first = await provider.getTransactionCount(relayer.address, 'latest');
    const owner = Wallet.createRandom().address;
    const split = { recipients: [owner], bps: [10_000], merkleRoot: `0x${'00'.repeat(32)}`, totalUnits: 0n };
    const data = system.registry.interface.encodeFunctionData('registerWithSig', [
      { manifestCid: 'bafy', pricePerSample: 1n, split },
      owner,
      BigInt(Math.floor(Date.now() / 1000) + 3600),
      `0x${'11'.repeat(65)}`,
    ]);
    const call = { to: await system.registry.getAddress(), data, idempotencyKey: 'revert:1' };

    const err = await relayer.submit(call).catch((e: unknown) => e as ProvenaError);

    expect(err).toBeInstanceOf(ProvenaError);
    expect((err as ProvenaError).code).toBe('RELAYER_REVERTED');
    expect((err as ProvenaError).details).toMatchObject({ errorName: expect.stringMatching(/^(DatasetRegistry_InvalidSignature|ECDSAInvalidSignature)/) });
    expect(await provider.getTransactionCount(relayer.address, 'latest')).toBe(first);
    expect((await fx.journal.get(relayer.address, 'revert:1'))?.state).toBe('failed');
    relayer.stop();
  });

  it('answers RELAYER_INSUFFICIENT_FUNDS from an unfunded key, sends nothing and keeps the key free', async () => {
    const relayer = fx.relayer(Wallet.createRandom().privateKey);
    await relayer.start();
    const [call] = transfers('poor', 1) as [RelayCall];

    expect(await codeOf(relayer.submit(call))).toBe('RELAYER_INSUFFICIENT_FUNDS');

    expect(await provider.getTransactionCount(relayer.address, 'pending')).toBe(0);
    expect((await fx.journal.get(relayer.address, call.idempotencyKey))?.state).toBe('failed');
    expect(await fx.journal.pending(relayer.address)).toEqual([]);
    relayer.stop();
  });

  it('reports its address and balance in health: ok, degraded under the low-water mark, down when empty', async () => {
    const funded = fx.relayer(devAccountKey(15));
    const { wei } = await funded.balance();
    const low = fx.relayer(devAccountKey(15), { lowBalanceWei: BigInt(wei) + 1n });
    const empty = fx.relayer(Wallet.createRandom().privateKey);

    const [ok, degraded, down] = await Promise.all([funded.health(), low.health(), empty.health()]);

    expect(ok).toMatchObject({ status: 'ok', detail: `relayer ${funded.address} balance ${wei} wei` });
    expect(degraded.status).toBe('degraded');
    expect(down).toMatchObject({ status: 'down', detail: `relayer ${empty.address} balance 0 wei` });
    expect(JSON.stringify([ok, degraded, down])).not.toContain(devAccountKey(15).slice(2));
  });

  it('drops journaled calls that sit behind a nonce gap after a chain reset instead of blocking new ones', async () => {
    const key = devAccountKey(16);
    const wallet = new Wallet(key);
    const latest = await provider.getTransactionCount(wallet.address, 'latest');
    // A pending entry from "before the reset": its nonce is far ahead of what this chain has seen.
    const stale: RelayEntry = {
      relayer: wallet.address,
      idempotencyKey: 'stale:1',
      call: { to: Wallet.createRandom().address, data: '0x', idempotencyKey: 'stale:1' },
      state: 'pending',
      nonce: latest + 5,
      gasLimit: '21000',
      attempts: [],
      version: 0,
      createdAt: 0,
      updatedAt: 0,
    };
    expect(await fx.journal.create(stale)).toBe(true);
    const relayer = fx.relayer(key);
    await relayer.start();
    const [call] = transfers('after-reset', 1) as [RelayCall];

    const receipt = await (await relayer.submit(call)).wait({ timeoutMs: 10_000 });

    expect(receipt.nonce).toBe(latest);
    expect((await fx.journal.get(wallet.address, 'stale:1'))?.state).toBe('dropped');
    expect(await codeOf(relayer.wait('stale:1'))).toBe('RELAYER_DROPPED');
    relayer.stop();
  });
});
