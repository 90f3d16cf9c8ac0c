import { describe, expect, test } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { deployProvena, readDeployment, writeDeployment } from '../deploy.js';
import { parseDeployEnv } from '../scripts/deploy.js';
import { AttestationRegistry__factory, LicenseManager__factory } from '../typechain/index.js';
import { getChain } from './helpers/chain.js';

describe('deploy script environment', () => {
  test('names every missing or malformed variable', () => {
    expect(() => parseDeployEnv({ PROVENA_CHAIN_RPC_URL: 'not a url', PROVENA_PAYMENT_TOKEN: '0x12' })).toThrow(
      /PROVENA_CHAIN_RPC_URL[\s\S]*PROVENA_DEPLOYER_KEY[\s\S]*PROVENA_PAYMENT_TOKEN[\s\S]*PROVENA_ATTESTOR/,
    );
  });
  test('parses a valid environment with defaults', () => {
    const key = Wallet.createRandom().privateKey;
    const a = Wallet.createRandom().address;
    const b = Wallet.createRandom().address;
    expect(parseDeployEnv({ PROVENA_CHAIN_RPC_URL: 'http://127.0.0.1:8545', PROVENA_DEPLOYER_KEY: key, PROVENA_ATTESTOR: b, PROVENA_ATTESTORS: ` ${a} ,` })).toEqual({
      PROVENA_CHAIN_RPC_URL: 'http://127.0.0.1:8545', PROVENA_DEPLOYER_KEY: key, PROVENA_GRACE_PERIOD_SECONDS: 3600, PROVENA_ATTESTOR: b, PROVENA_ATTESTORS: [a],
    });
  });
});

describe('deployProvena', () => {
  test('deploys every contract, wires them together and grants roles', async () => {
    const chain = await getChain();
    const admin = chain.signers[0]!;
    const attestor = Wallet.createRandom().address;
    const extra = Wallet.createRandom().address;
    const d = await deployProvena(admin, { gracePeriodSeconds: 60, attestor, attestors: [extra] });
    expect(Object.keys(d.contracts).sort()).toEqual(['AttestationRegistry', 'DatasetRegistry', 'LicenseManager', 'PaymentToken', 'TrainingLicense']);
    const manager = LicenseManager__factory.connect(d.contracts.LicenseManager!, admin);
    expect([...(await manager.contractsInUse())]).toEqual([
      d.contracts.PaymentToken, d.contracts.DatasetRegistry, d.contracts.AttestationRegistry, d.contracts.TrainingLicense, 60n,
    ]);
    expect(await manager.hasRole(await manager.PAUSER_ROLE(), d.deployer)).toBe(true);
    const att = AttestationRegistry__factory.connect(d.contracts.AttestationRegistry!, admin);
    expect(await att.hasRole(await att.ATTESTOR_ROLE(), attestor)).toBe(true);
    expect(await att.hasRole(await att.ATTESTOR_ROLE(), extra)).toBe(true);
    // The admin does not attest: it cannot approve its own key for a job (issue 8, item 10).
    expect(await att.hasRole(await att.ATTESTOR_ROLE(), d.deployer)).toBe(false);
    expect(await att.hasRole(await att.DEFAULT_ADMIN_ROLE(), d.deployer)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'provena-deploy-'));
    writeDeployment(dir, d);
    expect(readDeployment(dir, d.chainId)).toEqual(d);
  });

  test('refuses the deployer as attestor', async () => {
    const chain = await getChain();
    const admin = chain.signers[0]!;
    await expect(deployProvena(admin, { attestor: await admin.getAddress() })).rejects.toThrow(/attestor must not be the deployer/);
    await expect(deployProvena(admin, { attestor: Wallet.createRandom().address, attestors: [await admin.getAddress()] })).rejects.toThrow(
      /attestor must not be the deployer/,
    );
  });

  test('every contract fits the EIP-170 code size limit (24,576 bytes) so it deploys on mainnet and L2s', async () => {
    const chain = await getChain();
    const d = await deployProvena(chain.signers[0]!, { attestor: Wallet.createRandom().address });
    for (const [name, address] of Object.entries(d.contracts)) {
      const code = await chain.provider.getCode(address);
      expect({ name, fits: (code.length - 2) / 2 <= 24_576 }).toEqual({ name, fits: true });
    }
  });
});
