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
    expect(() => parseDeployEnv({ RPC_URL: 'not a url', PAYMENT_TOKEN: '0x12' })).toThrow(
      /RPC_URL[\s\S]*DEPLOYER_PRIVATE_KEY[\s\S]*PAYMENT_TOKEN/,
    );
  });
  test('parses a valid environment with defaults', () => {
    const key = Wallet.createRandom().privateKey;
    const a = Wallet.createRandom().address;
    expect(parseDeployEnv({ RPC_URL: 'http://127.0.0.1:8545', DEPLOYER_PRIVATE_KEY: key, ATTESTORS: ` ${a} ,` })).toEqual({
      RPC_URL: 'http://127.0.0.1:8545', DEPLOYER_PRIVATE_KEY: key, GRACE_PERIOD_SECONDS: 3600, ATTESTORS: [a],
    });
  });
});

describe('deployProvena', () => {
  test('deploys every contract, wires them together and grants roles', async () => {
    const chain = await getChain();
    const admin = chain.signers[0]!;
    const attestor = Wallet.createRandom().address;
    const d = await deployProvena(admin, { gracePeriodSeconds: 60, attestors: [attestor] });
    expect(Object.keys(d.contracts).sort()).toEqual(['AttestationRegistry', 'DatasetRegistry', 'LicenseManager', 'PaymentToken', 'TrainingLicense']);
    const manager = LicenseManager__factory.connect(d.contracts.LicenseManager!, admin);
    expect([...(await manager.contractsInUse())]).toEqual([
      d.contracts.PaymentToken, d.contracts.DatasetRegistry, d.contracts.AttestationRegistry, d.contracts.TrainingLicense, 60n,
    ]);
    expect(await manager.hasRole(await manager.PAUSER_ROLE(), d.deployer)).toBe(true);
    const att = AttestationRegistry__factory.connect(d.contracts.AttestationRegistry!, admin);
    expect(await att.hasRole(await att.ATTESTOR_ROLE(), attestor)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'provena-deploy-'));
    writeDeployment(dir, d);
    expect(readDeployment(dir, d.chainId)).toEqual(d);
  });
});
