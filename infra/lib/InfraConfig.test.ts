import { describe, expect, it } from '@jest/globals';
import { DEPLOY_REQUIRED, readInfraConfig } from './InfraConfig.js';

describe('readInfraConfig', () => {
  it('synthesizes the dev stage with no environment, recording the synth-only defaults', () => {
    const c = readInfraConfig({});
    expect(c.stage).toBe('dev');
    expect(c.keyGate).toBe('kms');
    expect(c.gpuMaxCapacity).toBe(2);
    expect(c.gpuInstanceTypes).toEqual(['g5.xlarge', 'g5.2xlarge', 'g6.xlarge', 'g6.2xlarge', 'g6e.xlarge']);
    expect(c.defaulted).toEqual([...DEPLOY_REQUIRED]);
    expect(c.chainName).toBe('hardhat');
    expect(c.relayerSecretArn).toBeUndefined();
  });

  it('names every deploy-required variable missing for a non-dev stage', () => {
    expect(() => readInfraConfig({ PROVENA_STAGE: 'prod', PROVENA_CHAIN_ID: '8453' })).toThrow(
      /PROVENA_CHAIN_RPC_URL: required[\s\S]*PROVENA_CHAIN_NAME: required[\s\S]*PROVENA_CONTRACTS: required[\s\S]*PROVENA_KUBO_URL: required/,
    );
  });

  it('rejects a non-GPU instance type, naming the variable', () => {
    expect(() => readInfraConfig({ PROVENA_GPU_INSTANCE_TYPES: 'g5.xlarge,m7i.large' })).toThrow(/PROVENA_GPU_INSTANCE_TYPES/);
  });

  it('refuses fewer than three GPU instance types (Spot pools)', () => {
    expect(() => readInfraConfig({ PROVENA_GPU_INSTANCE_TYPES: 'g5.xlarge,g6.xlarge' })).toThrow(/PROVENA_GPU_INSTANCE_TYPES: needs at least three/);
  });

  it('refuses three instance types of only two GPU families (two GPU models)', () => {
    expect(() => readInfraConfig({ PROVENA_GPU_INSTANCE_TYPES: 'g5.xlarge,g5.2xlarge,g6.xlarge' })).toThrow(/PROVENA_GPU_INSTANCE_TYPES: needs at least three GPU families/);
    expect(readInfraConfig({ PROVENA_GPU_INSTANCE_TYPES: 'g5.xlarge,g6.xlarge,g4dn.xlarge' }).gpuInstanceTypes).toHaveLength(3);
  });

  it('reads worker operators as checksummable addresses and refuses anything else', () => {
    const a = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    expect(readInfraConfig({ PROVENA_WORKER_OPERATORS: ` ${a},${a.toLowerCase()} ` }).workerOperators).toEqual([a, a.toLowerCase()]);
    expect(() => readInfraConfig({ PROVENA_WORKER_OPERATORS: 'alice' })).toThrow(/PROVENA_WORKER_OPERATORS/);
    expect(readInfraConfig({}).workerOperators).toEqual([]);
  });

  it('rejects contract addresses that are not addresses', () => {
    expect(() => readInfraConfig({ PROVENA_CONTRACTS: '{"PaymentToken":"0x1234"}' })).toThrow(/PROVENA_CONTRACTS/);
  });

  it('takes the relayer key only as a full Secrets Manager ARN, never the key itself', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:provena/relayer-AbC123';
    const address = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    expect(readInfraConfig({ PROVENA_RELAYER_SECRET_ARN: arn, PROVENA_RELAYER_ADDRESS: address.toLowerCase() })).toMatchObject({ relayerSecretArn: arn, relayerAddress: address });
    expect(() => readInfraConfig({ PROVENA_RELAYER_SECRET_ARN: arn })).toThrow(/PROVENA_RELAYER_ADDRESS/);
    expect(() => readInfraConfig({ PROVENA_RELAYER_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:provena/relayer' })).toThrow(
      /PROVENA_RELAYER_SECRET_ARN/,
    );
    expect(() => readInfraConfig({ PROVENA_RELAYER_SECRET_ARN: `0x${'11'.repeat(32)}` })).toThrow(/PROVENA_RELAYER_SECRET_ARN/);
  });

  it('parses a full deploy configuration and checksums contract addresses', () => {
    const c = readInfraConfig({
      PROVENA_STAGE: 'prod',
      PROVENA_CHAIN_RPC_URL: 'https://mainnet.base.org',
      PROVENA_CHAIN_ID: '8453',
      PROVENA_CHAIN_NAME: 'base',
      PROVENA_CONTRACTS: '{"PaymentToken":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8"}',
      PROVENA_KUBO_URL: 'https://kubo.internal:5001',
      PROVENA_KEY_GATE: 'lit',
      PROVENA_LIT_NETWORK: 'datil',
      PROVENA_LIT_WALLET_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:provena/lit-wallet-AbC123',
      PROVENA_GPU_MAX_SPOT_PRICE: '1.10',
    });
    expect(c.contracts).toEqual({ PaymentToken: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' });
    expect(c.defaulted).toEqual([]);
    expect(c.gpuMaxSpotPrice).toBe('1.10');
    expect(c.keyGate).toBe('lit');
    expect(c.chainName).toBe('base');
  });
});
