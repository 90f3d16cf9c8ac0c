import { describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiConfigSchema } from '../../shared/config.js';
import { REQUIRED_CONTRACTS, parseConfig } from '../../shared/configFields.js';
import { DevAttestor } from '../../shared/attestation/devAttestor.js';
import { attestationPolicy } from './attestation.js';

const base = {
  PROVENA_CHAIN_RPC_URL: 'http://127.0.0.1:8545',
  PROVENA_CHAIN_ID: '31337',
  PROVENA_IPFS_DIR: '/tmp/ipfs',
  PROVENA_KEY_GATE_MASTER_KEY_FILE: '/tmp/master.key',
  PROVENA_CURSOR_SECRET: 'ab'.repeat(32),
  PROVENA_WORKER_OPERATORS: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  PROVENA_CONTRACTS: JSON.stringify(Object.fromEntries(REQUIRED_CONTRACTS.map((name, i) => [name, `0x${String(i + 1).padStart(40, '0')}`]))),
};
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('the attestation policy from configuration', () => {
  it('trusts the development root under the data directory when PROVENA_ATTESTATION_POLICY=development', () => {
    const dir = mkdtempSync(join(tmpdir(), 'attn-policy-'));
    const policy = attestationPolicy(parseConfig(ApiConfigSchema, { ...base, PROVENA_ATTESTATION_POLICY: 'development', PROVENA_ATTESTATION_DEV_DIR: dir }))();
    expect(policy.production).toBe(false);
    expect(policy.extraRoots.dev).toEqual([DevAttestor.open(dir, { now: new Date() }).rootFingerprint]);
  });

  it('refuses to start in development without a directory for the root', () => {
    expect(codeOf(() => parseConfig(ApiConfigSchema, { ...base, PROVENA_ATTESTATION_POLICY: 'development' }))).toBe('CONFIG_INVALID');
  });

  it('defaults to production and answers CONFIG_INVALID on use when no production policy is configured', () => {
    const policy = attestationPolicy(parseConfig(ApiConfigSchema, base));
    expect(codeOf(policy)).toBe('CONFIG_INVALID');
  });

  it('refuses a configured policy that does not say production: true', () => {
    const json = JSON.stringify({ production: false, kinds: ['nitro'], modes: ['nitro'], maxAgeSeconds: 300 });
    expect(codeOf(attestationPolicy(parseConfig(ApiConfigSchema, { ...base, PROVENA_ATTESTATION_PRODUCTION_POLICY: json })))).toBe('CONFIG_INVALID');
  });

  it('uses a configured production policy with its allowed measurements', () => {
    const json = JSON.stringify({ production: true, kinds: ['nitro'], modes: ['nitro'], maxAgeSeconds: 300, measurements: { nitro: [{ PCR0: 'ab'.repeat(48) }] } });
    const policy = attestationPolicy(parseConfig(ApiConfigSchema, { ...base, PROVENA_ATTESTATION_PRODUCTION_POLICY: json }))();
    expect(policy.measurements.nitro).toEqual([{ PCR0: 'ab'.repeat(48) }]);
  });
});
