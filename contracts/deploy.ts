/**
 * Deploys Provena's contracts to any EVM chain through an ethers Signer, and reads/writes the address file
 * (one JSON per chain id). Used by `npm start` for the local Hardhat node and by
 * `npm run deploy` for a real chain.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAddress, type Signer } from 'ethers';
import { MockUSD__factory } from './typechain/index.js';

/** Where a set of contracts lives on one chain. */
export interface Deployment {
  chainId: number;
  deployer: string;
  blockNumber: number;
  /** Contract name -> checksummed address. Always has `PaymentToken`. */
  contracts: Record<string, string>;
}

export interface DeployOptions {
  /** An existing ERC-20 to use as the payment token. When absent, a MockUSD is deployed (local chains only). */
  paymentToken?: string;
}

/** Deploys every contract and returns their addresses. Waits for each deployment to be mined. */
export async function deployProvena(signer: Signer, options: DeployOptions = {}): Promise<Deployment> {
  const provider = signer.provider;
  if (!provider) throw new Error('deployProvena: the signer needs a provider');
  const { chainId } = await provider.getNetwork();
  const contracts: Record<string, string> = {};

  if (options.paymentToken) {
    contracts.PaymentToken = getAddress(options.paymentToken);
  } else {
    const token = await new MockUSD__factory(signer).deploy();
    await token.waitForDeployment();
    contracts.PaymentToken = getAddress(await token.getAddress());
  }

  return {
    chainId: Number(chainId),
    deployer: getAddress(await signer.getAddress()),
    blockNumber: await provider.getBlockNumber(),
    contracts,
  };
}

/** Writes `<dir>/<chainId>.json`. */
export function writeDeployment(dir: string, deployment: Deployment): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${deployment.chainId}.json`);
  writeFileSync(file, `${JSON.stringify(deployment, null, 2)}\n`);
  return file;
}

/** Reads `<dir>/<chainId>.json`, or undefined when there is none. */
export function readDeployment(dir: string, chainId: number): Deployment | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, `${chainId}.json`), 'utf8')) as Deployment;
  } catch {
    return undefined;
  }
}
