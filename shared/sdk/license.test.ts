/**
 * A lab's license transactions from its own key, on Hardhat's in-process chain: buying with an ERC-2612 permit
 * (MockUSD has one) or an approval, refusing a price raised above the accepted cap before anything is signed or
 * sent, reclaiming unallocated budget and refunding an ended job, each refusal with its code and nothing moved.
 */
import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Contract, type JsonRpcSigner } from 'ethers';
import { DAY, USD, buyLicense as fixtureBuy, deploySystem, registerExplicit, type System } from '../../contracts/test/helpers/fixture.js';
import { NoReturnToken__factory } from '../../contracts/typechain/index.js';
import { codeOf } from '../../test/support/errors.js';
import { buyLicense, permitDomain, reclaimUnallocated, refundJob } from './license.js';

let sys: System;
let base: string;
let datasetId: bigint;
let lab: JsonRpcSigner;
let manager: string;
const PRICE = 7n;

beforeAll(async () => {
  sys = await deploySystem();
  const [owner] = sys.people;
  datasetId = await registerExplicit(sys, owner!, PRICE, { recipients: [await owner!.getAddress()], bps: [10_000] });
  lab = sys.labs[0]!;
  manager = sys.manager.target as string;
  // The fixture approves an unlimited allowance; a lab starting from none shows which authorization was used.
  await (await sys.token.connect(lab).approve(manager, 0n)).wait();
  base = await sys.chain.snapshot();
});

beforeEach(async () => {
  await sys.chain.revertTo(base);
  base = await sys.chain.snapshot();
});

const expiry = async () => Number(await sys.chain.latestTimestamp()) + 30 * DAY;
const labAddress = () => lab.getAddress();
const state = async () => ({
  balance: await sys.token.balanceOf(await labAddress()),
  allowance: await sys.token.allowance(await labAddress(), manager),
  permitNonce: await sys.token.nonces(await labAddress()),
  licenses: await sys.license.balanceOf(await labAddress()),
});

describe('buyLicense', () => {
  it('authorizes the budget with a permit when the token has one, and buys the license', async () => {
    const before = await state();
    const sent: string[] = [];

    const r = await buyLicense({ signer: lab, licenseManager: manager, datasetIds: [datasetId], maxPricesPerSample: [PRICE], budget: 250n * USD, expiry: await expiry(), onSent: (step) => sent.push(step) });

    expect(r.authorization).toBe('permit');
    expect(sent).toEqual(['permit', 'purchase']);
    expect(await state()).toEqual({ balance: before.balance - 250n * USD, allowance: 0n, permitNonce: before.permitNonce + 1n, licenses: before.licenses + 1n });
    expect((await sys.manager.getLicense(BigInt(r.licenseId))).budget).toBe(250n * USD);
  });

  it('approves instead when asked to, and uses neither when the allowance already covers the budget', async () => {
    const approved = await buyLicense({ signer: lab, licenseManager: manager, datasetIds: [datasetId], maxPricesPerSample: [PRICE], budget: 10n * USD, expiry: await expiry(), authorization: 'approve' });
    await (await sys.token.connect(lab).approve(manager, 10n * USD)).wait();
    const covered = await buyLicense({ signer: lab, licenseManager: manager, datasetIds: [datasetId], maxPricesPerSample: [PRICE], budget: 10n * USD, expiry: await expiry() });

    expect([approved.authorization, covered.authorization]).toEqual(['approve', 'allowance']);
  });

  it('refuses a price raised above the accepted cap before signing or sending anything: nothing is bought or paid', async () => {
    const [owner] = sys.people;
    await (await sys.registry.connect(owner!).update(datasetId, PRICE + 1n, 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')).wait();
    const before = await state();
    const sent: string[] = [];

    const err = await codeOf(buyLicense({ signer: lab, licenseManager: manager, datasetIds: [datasetId], maxPricesPerSample: [PRICE], budget: 250n * USD, expiry: await expiry(), onSent: (s) => sent.push(s) }));

    expect(err).toBe('LICENSE_PRICE_ABOVE_MAX');
    expect(sent).toEqual([]);
    expect(await state()).toEqual(before);
  });

  it('refuses permit-only authorization on a token without ERC-2612, and detects no permit there', async () => {
    const plain = await new NoReturnToken__factory(sys.admin).deploy();
    await plain.waitForDeployment();

    const domain = await permitDomain(new Contract(await plain.getAddress(), ['function nonces(address) view returns (uint256)', 'function DOMAIN_SEPARATOR() view returns (bytes32)', 'function name() view returns (string)'], lab), lab);
    const mock = await permitDomain(new Contract(sys.token.target as string, ['function nonces(address) view returns (uint256)', 'function DOMAIN_SEPARATOR() view returns (bytes32)', 'function eip712Domain() view returns (bytes1, string, string, uint256, address, bytes32, uint256[])', 'function name() view returns (string)'], lab), lab);

    expect(domain).toBeUndefined();
    expect(mock?.domain).toMatchObject({ name: 'Mock USD', version: '1' });
  });
});

describe('reclaimUnallocated and refundJob', () => {
  async function licensed(budget: bigint, jobBudget?: bigint): Promise<{ licenseId: bigint; jobId?: bigint }> {
    await (await sys.token.connect(lab).approve(manager, budget)).wait();
    const licenseId = await fixtureBuy(sys, lab, [datasetId], budget);
    if (jobBudget === undefined) return { licenseId };
    const rc = await (await sys.manager.connect(lab).openJob(licenseId, jobBudget, 10n ** 30n)).wait();
    const jobId = rc!.logs.map((l) => sys.manager.interface.parseLog(l)).find((p) => p?.name === 'JobOpened')!.args[0] as bigint;
    return { licenseId, jobId };
  }

  it('sends the budget no job was given back to the holder, once', async () => {
    const { licenseId } = await licensed(250n * USD, 100n * USD);
    const before = await sys.token.balanceOf(await labAddress());

    const r = await reclaimUnallocated({ signer: lab, licenseManager: manager, licenseId });
    const again = await codeOf(reclaimUnallocated({ signer: lab, licenseManager: manager, licenseId }));

    expect(r).toMatchObject({ amount: String(150n * USD), to: await labAddress() });
    expect(await sys.token.balanceOf(await labAddress())).toBe(before + 150n * USD);
    expect(again).toBe('NOTHING_TO_RECLAIM');
  });

  it('sends to another address with --to, and refuses anyone but the holder without sending a transaction', async () => {
    const { licenseId } = await licensed(50n * USD);
    const other = sys.labs[1]!;
    const to = await sys.people[1]!.getAddress();
    const otherNonce = await other.getNonce();

    const refused = await codeOf(reclaimUnallocated({ signer: other, licenseManager: manager, licenseId }));
    const r = await reclaimUnallocated({ signer: lab, licenseManager: manager, licenseId, to });

    expect(refused).toBe('FORBIDDEN_NOT_OWNER');
    expect(await other.getNonce()).toBe(otherNonce);
    expect(r).toMatchObject({ to, amount: String(50n * USD) });
    expect(await sys.token.balanceOf(to)).toBe(50n * USD);
  });

  it('refunds a running job only after its report window closed, an ended one at once, and each only once', async () => {
    const { jobId } = await licensed(250n * USD, 100n * USD);

    const early = await codeOf(refundJob({ signer: lab, licenseManager: manager, jobId: jobId! }));
    await (await sys.manager.connect(lab).endJob(jobId!)).wait();
    const r = await refundJob({ signer: lab, licenseManager: manager, jobId: jobId! });
    const again = await codeOf(refundJob({ signer: lab, licenseManager: manager, jobId: jobId! }));
    const unknown = await codeOf(refundJob({ signer: lab, licenseManager: manager, jobId: 999n }));

    expect(early).toBe('JOB_REFUND_NOT_YET');
    expect(r.amount).toBe(String(100n * USD));
    expect([again, unknown]).toEqual(['JOB_ALREADY_REFUNDED', 'NOT_FOUND']);
  });
});
