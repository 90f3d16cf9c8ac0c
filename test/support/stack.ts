/** Access to the embedded stack the integration tests run against (started by globalSetup.js). */
import { readFileSync } from 'node:fs';
import { JsonRpcProvider, NonceManager, Wallet, type Signer } from 'ethers';
import { devAccountKey } from '../../stack/embeddedChain.js';
import { ProvenaClient } from '../../shared/sdk/client.js';
import type { StackInfo } from '../../stack/stack.js';

/** The running stack's description. */
export function stackInfo(): StackInfo {
  const file = process.env.PROVENA_TEST_STACK;
  if (!file) throw new Error('PROVENA_TEST_STACK is not set: run integration tests through jest (globalSetup starts the stack)');
  return JSON.parse(readFileSync(file, 'utf8')) as StackInfo;
}

/** A provider for the stack's chain. */
export function provider(): JsonRpcProvider {
  const info = stackInfo();
  return new JsonRpcProvider(info.rpcUrl, info.chainId, { staticNetwork: true });
}

/** A fresh random wallet (no funds needed to sign API requests). */
export function newWallet(): Wallet {
  return Wallet.createRandom() as unknown as Wallet;
}

/** A funded dev account as a signer; `index` 1.. (0 deployed the contracts). */
export function fundedSigner(index: number, p: JsonRpcProvider = provider()): Signer {
  return new NonceManager(new Wallet(devAccountKey(index), p));
}

/** An SDK client for the stack, signing with `signer`. */
export function clientFor(signer?: { getAddress(): Promise<string>; signTypedData: Wallet['signTypedData'] }, account?: string): ProvenaClient {
  const info = stackInfo();
  return new ProvenaClient({ baseUrl: info.apiUrl, chainId: info.chainId, ...(signer ? { signer } : {}), ...(account ? { account } : {}) });
}
