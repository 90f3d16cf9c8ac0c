import { describe, expect, it } from '@jest/globals';
import { ApiConfigSchema } from './config.js';
import { REQUIRED_CONTRACTS, parseConfig } from './configFields.js';

const contracts = (omit?: string) =>
  JSON.stringify(Object.fromEntries(REQUIRED_CONTRACTS.filter((n) => n !== omit).map((name, i) => [name, `0x${String(i + 1).padStart(40, '0')}`])));

const base = {
  PROVENA_CHAIN_RPC_URL: 'http://127.0.0.1:8545',
  PROVENA_CHAIN_ID: '31337',
  PROVENA_CURSOR_SECRET: 'ab'.repeat(32),
  PROVENA_WORKER_OPERATORS: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  PROVENA_IPFS_DIR: '/tmp/ipfs',
  PROVENA_KEY_GATE_MASTER_KEY_FILE: '/tmp/master.key',
};

describe('the API configuration', () => {
  it('parses a complete environment', () => {
    const config = parseConfig(ApiConfigSchema, { ...base, PROVENA_CONTRACTS: contracts() });
    expect(config.PROVENA_CONTRACTS.DatasetRegistry).toBe(`0x${'1'.padStart(40, '0')}`);
  });

  it('fails at start, naming the contract, when a required contract address is missing (no zero-address fallback)', () => {
    expect(() => parseConfig(ApiConfigSchema, { ...base, PROVENA_CONTRACTS: contracts('DatasetRegistry') })).toThrow(/PROVENA_CONTRACTS\.DatasetRegistry: has no DatasetRegistry address/);
  });

  it('names every missing variable at once', () => {
    expect(() => parseConfig(ApiConfigSchema, {})).toThrow(/PROVENA_CHAIN_RPC_URL[\s\S]*PROVENA_CHAIN_ID/);
  });

  describe("the Lit gate's wallet (PROVENA_LIT_WALLET_KEY)", () => {
    const lit = { ...base, PROVENA_CONTRACTS: contracts(), PROVENA_KEY_GATE: 'lit', PROVENA_LIT_NETWORK: 'datil-test', PROVENA_KEY_GATE_INBOX_KEY_ARN: 'alias/inbox', PROVENA_LIT_ACTION_CID: `Qm${'a'.repeat(44)}` };

    it('is required with the release action, naming the variable', () => {
      expect(() => parseConfig(ApiConfigSchema, lit)).toThrow(/PROVENA_LIT_WALLET_KEY: required when PROVENA_LIT_ACTION_CID is set/);
    });

    it('takes a key (local) or a Secrets Manager ARN (cloud), and nothing else', () => {
      const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:provena-lit-wallet-AbCdEf';
      expect(parseConfig(ApiConfigSchema, { ...lit, PROVENA_LIT_WALLET_KEY: `0x${'11'.repeat(32)}` }).PROVENA_LIT_WALLET_KEY).toBe(`0x${'11'.repeat(32)}`);
      expect(parseConfig(ApiConfigSchema, { ...lit, PROVENA_LIT_WALLET_KEY: arn }).PROVENA_LIT_WALLET_KEY).toBe(arn);
      expect(() => parseConfig(ApiConfigSchema, { ...lit, PROVENA_LIT_WALLET_KEY: 'arn:aws:kms:eu-west-1:123456789012:key/x' })).toThrow(/PROVENA_LIT_WALLET_KEY/);
    });
  });
});
