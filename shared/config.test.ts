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
  describe('a Capacity Credits delegation to the gate wallet (PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG)', () => {
    const lit = { ...base, PROVENA_CONTRACTS: contracts(), PROVENA_KEY_GATE: 'lit', PROVENA_LIT_NETWORK: 'datil', PROVENA_KEY_GATE_INBOX_KEY_ARN: 'alias/inbox', PROVENA_LIT_ACTION_CID: `Qm${'a'.repeat(44)}`, PROVENA_LIT_WALLET_KEY: `0x${'11'.repeat(32)}` };
    const authSig = {
      sig: `0x${'5a'.repeat(65)}`,
      derivedVia: 'web3.eth.personal.sign',
      signedMessage: "localhost wants you to sign in with your Ethereum account:\n0x40c06032dc7012BC7BD784c9D2A7634db0e35A8D\n\nURI: lit:capability:delegation\n",
      address: '0x40c06032dc7012BC7BD784c9D2A7634db0e35A8D',
    };

    it('takes the JSON AuthSig Lit returns and hands it over parsed', () => {
      const c = parseConfig(ApiConfigSchema, { ...lit, PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG: JSON.stringify(authSig) });
      expect(c.PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG).toEqual(authSig);
    });

    it('needs the gate wallet it delegates to', () => {
      const { PROVENA_LIT_WALLET_KEY: _key, PROVENA_LIT_ACTION_CID: _cid, ...noWallet } = lit;
      expect(() => parseConfig(ApiConfigSchema, { ...noWallet, PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG: JSON.stringify(authSig) })).toThrow(/PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG: needs PROVENA_LIT_WALLET_KEY/);
    });

    it.each([
      ['not JSON', 'sig=0x5a'],
      ['another derivation', JSON.stringify({ ...authSig, derivedVia: 'litSessionSignViaNacl' })],
      ['a short signature', JSON.stringify({ ...authSig, sig: '0x5a5a' })],
      ['an unknown field', JSON.stringify({ ...authSig, extra: 1 })],
      ['over 8 KiB', JSON.stringify({ ...authSig, signedMessage: 'x'.repeat(9000) })],
    ])('refuses %s at start, naming the variable', (_what, value) => {
      expect(() => parseConfig(ApiConfigSchema, { ...lit, PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG: value })).toThrow(/PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG/);
    });
  });
});
