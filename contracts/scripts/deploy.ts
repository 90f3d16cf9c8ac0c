/**
 * Deploys Provena's contracts to any EVM chain and writes contracts/deployments/<chainId>.json.
 *
 *   RPC_URL=https://... DEPLOYER_PRIVATE_KEY=0x... ATTESTOR=0x... PAYMENT_TOKEN=0x... npm run deploy
 *
 * Environment (validated with zod; a missing or malformed variable fails before anything is sent):
 * - RPC_URL: JSON-RPC endpoint of the target chain.
 * - DEPLOYER_PRIVATE_KEY: 0x-prefixed 32-byte key; this account becomes admin of every contract.
 * - PAYMENT_TOKEN: the ERC-20 to price licenses in. Required except on local chains (31337, 1337), where a
 *   MockUSD is deployed when absent. It must not charge transfer fees (purchases would revert) or rebase.
 * - GRACE_PERIOD_SECONDS (optional, default 3600): how long after a job ends its last reports may land.
 * - ATTESTOR: the address given ATTESTOR_ROLE on the AttestationRegistry (the API's attestor key, which approves
 *   worker keys on verified evidence). Must differ from the deployer's address: the admin does not attest.
 * - ATTESTORS (optional): comma-separated further addresses given ATTESTOR_ROLE (key rotation).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonRpcProvider, Wallet, isAddress } from 'ethers';
import { z } from 'zod';
import { DEFAULT_GRACE_PERIOD_SECONDS, deployProvena, writeDeployment } from '../deploy.js';

const LOCAL_CHAINS = new Set([31337, 1337]);

const address = z.string().refine((s) => isAddress(s), 'must be a 0x-prefixed 20-byte address');
export const DeployEnv = z.object({
  RPC_URL: z.url(),
  DEPLOYER_PRIVATE_KEY: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex key'),
  PAYMENT_TOKEN: address.optional(),
  ATTESTOR: address,
  GRACE_PERIOD_SECONDS: z.coerce.number().int().min(0).max(30 * 86_400).default(DEFAULT_GRACE_PERIOD_SECONDS),
  ATTESTORS: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',').map((a) => a.trim()).filter(Boolean) : []))
    .pipe(z.array(address)),
});
export type DeployEnv = z.infer<typeof DeployEnv>;

/** Parses the environment, naming every missing or malformed variable. */
export function parseDeployEnv(env: NodeJS.ProcessEnv): DeployEnv {
  const parsed = DeployEnv.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new Error(`deploy: invalid environment\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export async function main(env: NodeJS.ProcessEnv = process.env, outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'deployments')): Promise<string> {
  const config = parseDeployEnv(env);
  const provider = new JsonRpcProvider(config.RPC_URL);
  const chainId = Number((await provider.getNetwork()).chainId);
  if (!config.PAYMENT_TOKEN && !LOCAL_CHAINS.has(chainId)) {
    throw new Error(`deploy: PAYMENT_TOKEN is required on chain ${chainId} (a MockUSD is only deployed on local chains)`);
  }
  const signer = new Wallet(config.DEPLOYER_PRIVATE_KEY, provider);
  const deployment = await deployProvena(signer, {
    ...(config.PAYMENT_TOKEN ? { paymentToken: config.PAYMENT_TOKEN } : {}),
    gracePeriodSeconds: config.GRACE_PERIOD_SECONDS,
    attestor: config.ATTESTOR,
    attestors: config.ATTESTORS,
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
