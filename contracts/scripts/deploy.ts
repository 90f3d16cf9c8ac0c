/**
 * Deploys Provena's contracts to any EVM chain and writes contracts/deployments/<chainId>.json.
 *
 *   PROVENA_CHAIN_RPC_URL=https://... PROVENA_DEPLOYER_KEY=0x... PROVENA_ATTESTOR=0x... PROVENA_PAYMENT_TOKEN=0x... npm run deploy
 *
 * Environment (validated with zod; a missing or malformed variable fails before anything is sent):
 * - PROVENA_CHAIN_RPC_URL: JSON-RPC endpoint of the target chain.
 * - PROVENA_DEPLOYER_KEY: 0x-prefixed 32-byte key; this account becomes admin of every contract.
 * - PROVENA_PAYMENT_TOKEN: the ERC-20 to price licenses in. Required except on local chains (31337, 1337), where a
 *   MockUSD is deployed when absent. It must not charge transfer fees (purchases would revert) or rebase.
 * - PROVENA_GRACE_PERIOD_SECONDS (optional, default 3600): how long after a job ends its last reports may land.
 * - PROVENA_ATTESTOR: the address given ATTESTOR_ROLE on the AttestationRegistry (the API's attestor key, which approves
 *   worker keys on verified evidence). Must differ from the deployer's address: the admin does not attest.
 * - PROVENA_ATTESTORS (optional): comma-separated further addresses given ATTESTOR_ROLE (key rotation).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonRpcProvider, Wallet, isAddress } from 'ethers';
import * as z from 'zod';
import { ChainSettings, PrivateKey, parseConfig } from '../../shared/configFields.js';
import { DEFAULT_GRACE_PERIOD_SECONDS, deployProvena, writeDeployment } from '../deploy.js';

const LOCAL_CHAINS = new Set([31337, 1337]);

const address = z.string().refine((s) => isAddress(s), 'must be a 0x-prefixed 20-byte address');
export const DeployEnv = z.object({
  PROVENA_CHAIN_RPC_URL: ChainSettings.PROVENA_CHAIN_RPC_URL,
  PROVENA_DEPLOYER_KEY: PrivateKey,
  PROVENA_PAYMENT_TOKEN: address.optional(),
  PROVENA_ATTESTOR: address,
  PROVENA_GRACE_PERIOD_SECONDS: z.coerce.number().int().min(0).max(30 * 86_400).default(DEFAULT_GRACE_PERIOD_SECONDS),
  PROVENA_ATTESTORS: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',').map((a) => a.trim()).filter(Boolean) : []))
    .pipe(z.array(address)),
});
export type DeployEnv = z.infer<typeof DeployEnv>;

/** Parses the environment, naming every missing or malformed variable. */
export function parseDeployEnv(env: NodeJS.ProcessEnv): DeployEnv {
  return parseConfig(DeployEnv, env);
}

export async function main(env: NodeJS.ProcessEnv = process.env, outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'deployments')): Promise<string> {
  const config = parseDeployEnv(env);
  const provider = new JsonRpcProvider(config.PROVENA_CHAIN_RPC_URL);
  const chainId = Number((await provider.getNetwork()).chainId);
  if (!config.PROVENA_PAYMENT_TOKEN && !LOCAL_CHAINS.has(chainId)) {
    throw new Error(`deploy: PROVENA_PAYMENT_TOKEN is required on chain ${chainId} (a MockUSD is only deployed on local chains)`);
  }
  const signer = new Wallet(config.PROVENA_DEPLOYER_KEY, provider);
  const deployment = await deployProvena(signer, {
    ...(config.PROVENA_PAYMENT_TOKEN ? { paymentToken: config.PROVENA_PAYMENT_TOKEN } : {}),
    gracePeriodSeconds: config.PROVENA_GRACE_PERIOD_SECONDS,
    attestor: config.PROVENA_ATTESTOR,
    attestors: config.PROVENA_ATTESTORS,
  });
  const file = writeDeployment(outDir, deployment);
  provider.destroy();
  return file;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main()
    .then((file) => console.log(`deployed; addresses in ${file}`))
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
