/**
 * Test fixture: the in-process Hardhat network (hardhat.config.cjs) behind an ethers provider, with the
 * test-only ConditionTarget contract (contracts/src/test/ConditionTarget.sol) deployed and seeded:
 *
 * - license 1: held by `holder`, active, datasets [7, 8]
 * - license 2: held by `holder`, expired, dataset [9]
 * - license 3: held by `other`, active, dataset [10]
 * - job 100 on license 1: `worker` approved; job 101 on license 1: `worker` not approved
 */
import { BrowserProvider, hexlify, randomBytes, Wallet } from 'ethers';
import type { Eip1193Provider, JsonRpcSigner } from 'ethers';
import { ConditionTarget__factory } from '../../contracts/typechain/factories/ConditionTarget__factory.js';
import type { ConditionTarget } from '../../contracts/typechain/ConditionTarget.js';

export interface ConditionFixture {
  provider: BrowserProvider;
  target: ConditionTarget;
  address: string;
  holder: Wallet;
  other: Wallet;
  worker: Wallet;
  deployer: JsonRpcSigner;
}

/** Deploys and seeds ConditionTarget; see the file comment for the seeded state. */
export async function deployConditionTarget(): Promise<ConditionFixture> {
  const hre = (await import('hardhat')).default;
  const eip1193 = hre.network.provider as unknown as Eip1193Provider; // Hardhat's provider implements request()
  const provider = new BrowserProvider(eip1193, undefined, { cacheTimeout: -1, polling: true, pollingInterval: 5 });
  const accounts = (await eip1193.request({ method: 'eth_accounts', params: [] })) as string[];
  const deployer = await provider.getSigner(accounts[0]);
  const target = await new ConditionTarget__factory(deployer).deploy();
  await target.waitForDeployment();
  const holder = new Wallet(hexlify(randomBytes(32)));
  const other = new Wallet(hexlify(randomBytes(32)));
  const worker = new Wallet(hexlify(randomBytes(32)));
  const later = BigInt(Math.max(Math.floor(Date.now() / 1000), (await provider.getBlock('latest'))!.timestamp) + 30 * 86400);
  await (await target.setLicense(1n, holder.address, later, [7n, 8n])).wait();
  await (await target.setLicense(2n, holder.address, 1n, [9n])).wait(); // expired long ago
  await (await target.setLicense(3n, other.address, later, [10n])).wait();
  await (await target.setJob(100n, 1n, worker.address, true)).wait();
  await (await target.setJob(101n, 1n, worker.address, false)).wait();
  return { provider, target, address: await target.getAddress(), holder, other, worker, deployer };
}
