/**
 * EvmJobChain.relayReport against Hardhat's in-process chain, the real contracts and the relayer: a one-dataset
 * report goes as `submitSingleReport` (issue 13: the cheaper encoding), others as `submitReport`, and a refusal keeps
 * its precise code although the single form cannot tell a wrong amount from a wrong key.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Wallet, type Signer } from 'ethers';
import { licenseManagerDomain, signUsageReport } from '../../eip712.js';
import type { UsageReportWire } from '../../schemas/job.js';
import { codeOf } from '../../../test/support/errors.js';
import { buyLicense, deploySystem, openJob, registerExplicit, USD, type System } from '../../../contracts/test/helpers/fixture.js';
import { devAccountKey } from '../../../stack/embeddedChain.js';
import { relayerFixture, type RelayerFixture } from '../../../test/support/relayerFixture.js';
import { EvmJobChain } from './EvmJobChain.js';

let fx: RelayerFixture;
let sys: System;
let chain: EvmJobChain;
let ds1: bigint;
let ds2: bigint;
const PRICE = 1000n;

beforeAll(async () => {
  fx = await relayerFixture();
  sys = await deploySystem();
  const owner = sys.people[0]!;
  const recipient = await sys.people[1]!.getAddress();
  ds1 = await registerExplicit(sys, owner, PRICE, { recipients: [recipient], bps: [10000] });
  ds2 = await registerExplicit(sys, owner, PRICE, { recipients: [recipient], bps: [10000] });
  const relayer = fx.relayer(devAccountKey(18));
  await relayer.start();
  chain = new EvmJobChain(fx.chain.provider, {
    licenseManager: await sys.manager.getAddress(),
    datasetRegistry: await sys.registry.getAddress(),
    attestationRegistry: await sys.attestations.getAddress(),
  }, relayer);
}, 120_000);
afterAll(async () => {
  await fx?.close();
});

async function signed(jobId: bigint, entries: [bigint, bigint, bigint][], signer: Signer = sys.worker): Promise<{ report: UsageReportWire; signature: string }> {
  const msg = { jobId, datasetIds: entries.map((e) => e[0]), samples: entries.map((e) => e[1]), amounts: entries.map((e) => e[2]) };
  const signature = await signUsageReport(signer, licenseManagerDomain(sys.chain.chainId, await sys.manager.getAddress()), msg);
  const report = { jobId: String(jobId), datasetIds: msg.datasetIds.map(String), samples: msg.samples.map(String), amounts: msg.amounts.map(String) };
  return { report, signature };
}
const selectorOf = async (txHash: string) => (await fx.chain.provider.getTransaction(txHash))!.data.slice(0, 10);
const newJob = async (datasets: bigint[]) => openJob(sys, sys.labs[0]!, await buyLicense(sys, sys.labs[0]!, datasets, 100n * USD), 100n * USD);

describe('EvmJobChain.relayReport', () => {
  it('relays a one-dataset report as submitSingleReport and reads what it paid', async () => {
    const job = await newJob([ds1]);
    const { report, signature } = await signed(job, [[ds1, 10n, 10n * PRICE]]);
    const mined = await chain.relayReport(report, signature, `single:${job}`);
    expect(await selectorOf(mined.txHash)).toBe(sys.manager.interface.getFunction('submitSingleReport')!.selector);
    expect(mined.paid).toBe(String(10n * PRICE));
    expect(mined.accrued).toEqual([{ chainDatasetId: String(ds1), cumulativeSamples: '10', amount: String(10n * PRICE) }]);
    expect(await sys.manager.settledSamples(job, ds1)).toBe(10n);
  });
  it('relays a two-dataset report as submitReport', async () => {
    const job = await newJob([ds1, ds2]);
    const { report, signature } = await signed(job, [[ds1, 2n, 2n * PRICE], [ds2, 3n, 3n * PRICE]]);
    const mined = await chain.relayReport(report, signature, `pair:${job}`);
    expect(await selectorOf(mined.txHash)).toBe(sys.manager.interface.getFunction('submitReport')!.selector);
    expect(mined.paid).toBe(String(5n * PRICE));
  });
  it('answers JOB_REPORT_AMOUNT_MISMATCH for a one-dataset report whose amount is not samples × price', async () => {
    const job = await newJob([ds1]);
    const { report, signature } = await signed(job, [[ds1, 10n, 10n * PRICE + 1n]]);
    expect(await codeOf(chain.relayReport(report, signature, `amount:${job}`))).toBe('JOB_REPORT_AMOUNT_MISMATCH');
    expect(await sys.manager.settledSamples(job, ds1)).toBe(0n);
  });
  it('answers JOB_WORKER_NOT_APPROVED for a one-dataset report signed by a key never approved', async () => {
    const job = await newJob([ds1]);
    const { report, signature } = await signed(job, [[ds1, 1n, PRICE]], Wallet.createRandom());
    expect(await codeOf(chain.relayReport(report, signature, `rogue:${job}`))).toBe('JOB_WORKER_NOT_APPROVED');
  });
  it('answers JOB_NOT_ACTIVE for a report after the lab ended the job (the cancel race), in both forms, and pays nothing', async () => {
    const job = await newJob([ds1, ds2]);
    const single = await newJob([ds1]);
    await chain.relayReport((await signed(single, [[ds1, 2n, 2n * PRICE]])).report, (await signed(single, [[ds1, 2n, 2n * PRICE]])).signature, `pre-cancel:${single}`);
    const late = await signed(job, [[ds1, 3n, 3n * PRICE], [ds2, 1n, PRICE]]);
    const lateSingle = await signed(single, [[ds1, 5n, 5n * PRICE]]);
    for (const j of [job, single]) await (await sys.manager.connect(sys.labs[0]!).endJob(j)).wait();
    expect(await codeOf(chain.relayReport(late.report, late.signature, `late:${job}`))).toBe('JOB_NOT_ACTIVE');
    expect(await codeOf(chain.relayReport(lateSingle.report, lateSingle.signature, `late:${single}`))).toBe('JOB_NOT_ACTIVE');
    expect([await sys.manager.settledSamples(job, ds1), await sys.manager.settledSamples(single, ds1)]).toEqual([0n, 2n]);
  });
  it('answers JOB_NOT_ACTIVE for a report that simulated before the cancel and was mined after it (reverted on chain)', async () => {
    const job = await newJob([ds1]);
    const late = await signed(job, [[ds1, 4n, 4n * PRICE]]);
    await fx.automine(false);
    try {
      const outcome = codeOf(chain.relayReport(late.report, late.signature, `in-flight:${job}`));
      // The relayer simulated it (the job was open) and broadcast it; the lab's cancel, paying a higher tip, is mined
      // first in the same block.
      for (let i = 0; ; i++) {
        const pending = (await fx.chain.rpc('eth_getBlockByNumber', ['pending', false])) as { transactions: string[] };
        if (pending.transactions.length > 0) break;
        if (i > 400) throw new Error('the relayed report never reached the mempool');
        await new Promise((r) => setTimeout(r, 25));
      }
      const cancel = await sys.manager.connect(sys.labs[0]!).endJob(job, { gasLimit: 200_000n, maxPriorityFeePerGas: 50n * 10n ** 9n, maxFeePerGas: 100n * 10n ** 9n });
      await fx.mine();
      await fx.automine(true);
      expect(await outcome).toBe('JOB_NOT_ACTIVE');
      const block = await fx.chain.provider.getBlock((await cancel.wait())!.blockNumber);
      expect(block!.transactions.length).toBe(2); // the cancel and the reverted report, in that order
      expect(block!.transactions[0]).toBe(cancel.hash);
      expect((await fx.chain.provider.getTransactionReceipt(block!.transactions[1]!))!.status).toBe(0);
      expect(await sys.manager.settledSamples(job, ds1)).toBe(0n);
    } finally {
      await fx.automine(true);
    }
  });
  it('answers JOB_REPORT_SIGNATURE_INVALID for a malformed signature (sent in the array form)', async () => {
    const job = await newJob([ds1]);
    const { report } = await signed(job, [[ds1, 1n, PRICE]]);
    expect(await codeOf(chain.relayReport(report, '0x1234', `malformed:${job}`))).toBe('JOB_REPORT_SIGNATURE_INVALID');
  });
});
