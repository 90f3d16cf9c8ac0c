/**
 * Hardhat's in-process network for contract tests (hardhat.config.cjs at the repo root), wrapped in an ethers v6
 * BrowserProvider. Snapshots make fixtures cheap: deploy once, `revertTo` before each test.
 */
import { BrowserProvider, type Eip1193Provider, type JsonRpcSigner } from 'ethers';

export interface Chain {
  provider: BrowserProvider;
  signers: JsonRpcSigner[];
  chainId: bigint;
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  snapshot(): Promise<string>;
  revertTo(id: string): Promise<void>;
  /** Moves the next block's timestamp forward and mines it. */
  increaseTime(seconds: number | bigint): Promise<void>;
  /** Sets the next block's timestamp (mined by the next transaction). */
  setNextTimestamp(timestamp: number | bigint): Promise<void>;
  latestTimestamp(): Promise<bigint>;
}

let chain: Promise<Chain> | undefined;

async function create(): Promise<Chain> {
  const hre = (await import('hardhat')).default;
  const eip1193 = hre.network.provider as unknown as Eip1193Provider; // Hardhat's provider implements request()
  const provider = new BrowserProvider(eip1193, undefined, { cacheTimeout: -1, polling: true, pollingInterval: 5 });
  const rpc = (method: string, params: unknown[] = []) => eip1193.request({ method, params });
  const accounts = (await rpc('eth_accounts')) as string[];
  const signers = await Promise.all(accounts.map((a) => provider.getSigner(a)));
  const { chainId } = await provider.getNetwork();
  return {
    provider,
    signers,
    chainId,
    rpc,
    snapshot: async () => (await rpc('evm_snapshot')) as string,
    revertTo: async (id) => {
      if (!(await rpc('evm_revert', [id]))) throw new Error(`evm_revert ${id} failed`);
    },
    increaseTime: async (seconds) => {
      await rpc('evm_increaseTime', [Number(seconds)]);
      await rpc('evm_mine');
    },
    setNextTimestamp: async (timestamp) => {
      await rpc('evm_setNextBlockTimestamp', [Number(timestamp)]);
    },
    latestTimestamp: async () => BigInt((await provider.getBlock('latest'))!.timestamp),
  };
}

/** The shared in-process chain of this test file (one per jest worker module registry). */
export function getChain(): Promise<Chain> {
  chain ??= create();
  return chain;
}
