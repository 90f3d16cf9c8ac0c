/**
 * Deploys Provena's contracts to any EVM chain through an ethers Signer, and reads/writes the address file
 * (one JSON per chain id). Used by `npm start` for the local Hardhat node and by
 * `npm run deploy` for a real chain.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NonceManager, getAddress, type Signer } from 'ethers';
import {
  AttestationRegistry__factory,
  DatasetRegistry__factory,
  LicenseManager__factory,
  MockUSD__factory,
} from './typechain/index.js';

/** Seconds after a job ends during which its last usage reports may still land (default of {@link deployProvena}). */
export const DEFAULT_GRACE_PERIOD_SECONDS = 3600;

/** Where a set of contracts lives on one chain. */
export interface Deployment {
  chainId: number;
  deployer: string;
  blockNumber: number;
  /**
   * Contract name -> checksummed address. Always has `PaymentToken`, `DatasetRegistry`, `AttestationRegistry`,
   * `LicenseManager` (escrow, settlement, royalty pools and claims) and `TrainingLicense` (the license ERC-721,
   * created by the LicenseManager).
   */
  contracts: Record<string, string>;
}

export interface DeployOptions {
  /** An existing ERC-20 to use as the payment token. When absent, a MockUSD is deployed (local chains only). */
  paymentToken?: string;
  /** Report grace period in seconds after a job ends; default {@link DEFAULT_GRACE_PERIOD_SECONDS}. */
  gracePeriodSeconds?: number;
  /**
   * The attestor: the only account given ATTESTOR_ROLE (it approves worker keys on verified evidence, which lets
   * those keys spend the job's budget). Must not be the deployer, who is admin: the admin holding the role could
   * approve its own key for any job (see the trust assumptions in contracts/README.md).
   */
  attestor: string;
  /** Further accounts given ATTESTOR_ROLE (e.g. during an attestor key rotation). Never the deployer. */
  attestors?: string[];
}

/** Deploys every contract and returns their addresses. Waits for each deployment to be mined. */
export async function deployProvena(outerSigner: Signer, options: DeployOptions): Promise<Deployment> {
  // Count nonces locally: providers may answer a cached pending nonce between back-to-back deployments.
  const signer = outerSigner instanceof NonceManager ? outerSigner : new NonceManager(outerSigner);
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

  const deployer = getAddress(await signer.getAddress());
  const attestor = getAddress(options.attestor);
  const extraAttestors = (options.attestors ?? []).map((a) => getAddress(a));
  if ([attestor, ...extraAttestors].includes(deployer)) {
    throw new Error('deployProvena: the attestor must not be the deployer (the admin would approve its own worker keys)');
  }
  const registry = await new DatasetRegistry__factory(signer).deploy();
  await registry.waitForDeployment();
  contracts.DatasetRegistry = getAddress(await registry.getAddress());

  const attestations = await new AttestationRegistry__factory(signer).deploy(deployer, attestor);
  await attestations.waitForDeployment();
  contracts.AttestationRegistry = getAddress(await attestations.getAddress());

  const manager = await new LicenseManager__factory(signer).deploy(
    contracts.PaymentToken,
    contracts.DatasetRegistry,
    contracts.AttestationRegistry,
    options.gracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS,
    deployer,
  );
  await manager.waitForDeployment();
  contracts.LicenseManager = getAddress(await manager.getAddress());
  contracts.TrainingLicense = getAddress((await manager.contractsInUse()).licenseToken);

  const attestorRole = await attestations.ATTESTOR_ROLE();
  for (const extra of extraAttestors) {
    if (extra !== attestor) await (await attestations.grantRole(attestorRole, extra)).wait();
  }

  return {
    chainId: Number(chainId),
    deployer,
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
