import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NVIDIA_DEVICE_ROOT_SHA256 } from './nvidiaDeviceRoot.js';
import { PINNED_ROOTS } from './policy.js';
import { TDX_TCB_LEVEL_NOT_FOUND } from './tdx.js';
import { INTEL_SGX_ROOT_CA_SHA256 } from './tdxIntelRoot.js';
import { AttestationPolicy, type EvidenceBundle } from './types.js';
import { BUILTIN_VERIFIERS } from './verifiers.js';
import { verifyEvidence } from './verifyEvidence.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../../../shared/fixtures');
const tdxDir = path.join(fixtures, 'tdx');
const nvDir = path.join(fixtures, 'nvidia');
const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');
const signingChain = readFileSync(path.join(here, 'tdxFixtureTcbSigningChain.pem'));

/** The real Sapphire Rapids quote with its Intel PCS collateral, and the real Hopper GPU report, as a worker posts them. */
const bundle: EvidenceBundle = {
  kind: 'tdx',
  documents: {
    quote: b64(readFileSync(path.join(tdxDir, 'tdx_prod_quote_SPR_E4.dat'))),
    tcbInfo: b64(readFileSync(path.join(tdxDir, 'sample_tcbInfo_response'))),
    tcbInfoIssuerChain: b64(signingChain),
    qeIdentity: b64(readFileSync(path.join(tdxDir, 'sample_qeIdentity_response'))),
    qeIdentityIssuerChain: b64(signingChain),
    pckCrl: b64(readFileSync(path.join(tdxDir, 'pckcrl'))),
    rootCaCrl: b64(readFileSync(path.join(tdxDir, 'rootcrl.der'))),
  },
  gpu: {
    kind: 'nvidia-gpu',
    documents: {
      report: b64(Buffer.from(readFileSync(path.join(nvDir, 'hopperAttestationReport.txt'), 'utf8').trim(), 'hex')),
      certChain: b64(readFileSync(path.join(nvDir, 'hopperCertChain.txt'))),
    },
  },
};
const now = new Date('2023-07-01T00:00:00Z');
const MRTD = '6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb';
const expected = { expectedNonce: 'aa'.repeat(32), expectedPublicKey: `04${'11'.repeat(64)}` };

function productionPolicy(extra: Partial<AttestationPolicy> = {}): AttestationPolicy {
  return AttestationPolicy.parse({ production: true, kinds: ['tdx', 'nvidia-gpu'], modes: ['confidential-gpu'], maxAgeSeconds: 300, measurements: { tdx: [{ MRTD }] }, ...extra });
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('TDX and NVIDIA evidence through verifyEvidence', () => {
  it('pins the Intel SGX Root CA for tdx and the NVIDIA Device Identity CA for nvidia-gpu', () => {
    expect(PINNED_ROOTS.tdx).toEqual([INTEL_SGX_ROOT_CA_SHA256]);
    expect(PINNED_ROOTS['nvidia-gpu']).toEqual([NVIDIA_DEVICE_ROOT_SHA256]);
  });

  it('normalizes the real TDX quote: upper-case measurements, REPORTDATA as the binding, TcbLevelNotFound as its TCB status', async () => {
    const docs = Object.fromEntries(Object.entries(bundle.documents).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    const v = await BUILTIN_VERIFIERS.tdx!(docs, { now, trustedRoots: PINNED_ROOTS.tdx });
    expect(v).toMatchObject({ kind: 'tdx', debug: false, tcbStatus: TDX_TCB_LEVEL_NOT_FOUND, rootFingerprint: INTEL_SGX_ROOT_CA_SHA256 });
    expect(v.measurements['MRTD']).toBe(MRTD);
    expect(v.bindings.reportData).toMatch(/^6c62dec1[0-9a-f]{120}$/);
  });

  it('normalizes the real Hopper report: BLOCK_<n> measurements and the SPDM nonce as the binding', async () => {
    const docs = Object.fromEntries(Object.entries(bundle.gpu!.documents).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    const v = await BUILTIN_VERIFIERS['nvidia-gpu']!(docs, { now: new Date('2026-01-01T00:00:00Z'), trustedRoots: PINNED_ROOTS['nvidia-gpu'] });
    expect(v.rootFingerprint).toBe(NVIDIA_DEVICE_ROOT_SHA256);
    expect(Object.keys(v.measurements)).toHaveLength(64);
    expect(v.measurements['BLOCK_1']).toMatch(/^[0-9a-f]{96}$/);
    expect(v.bindings.nonce).toBe('931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb');
  });

  it('refuses the real quote under the default production policy with ATTESTATION_TCB_REFUSED (TcbLevelNotFound is not accepted)', async () => {
    expect(await codeOf(verifyEvidence(bundle, { policy: productionPolicy(), now, ...expected, verifiers: BUILTIN_VERIFIERS }))).toBe('ATTESTATION_TCB_REFUSED');
  });

  it('passes the TCB check only when the policy lists TcbLevelNotFound, then stops at the binding (its REPORTDATA binds no key of ours)', async () => {
    const policy = productionPolicy({ tcbStatuses: ['UpToDate', TDX_TCB_LEVEL_NOT_FOUND] });
    expect(await codeOf(verifyEvidence(bundle, { policy, now, ...expected, verifiers: BUILTIN_VERIFIERS }))).toBe('ATTESTATION_KEY_NOT_BOUND');
  });

  it('refuses the real quote when the policy allows another MRTD with ATTESTATION_MEASUREMENT_UNEXPECTED', async () => {
    const policy = productionPolicy({ measurements: { tdx: [{ MRTD: '00'.repeat(48) }] } });
    expect(await codeOf(verifyEvidence(bundle, { policy, now, ...expected, verifiers: BUILTIN_VERIFIERS }))).toBe('ATTESTATION_MEASUREMENT_UNEXPECTED');
  });

  it('refuses the real quote when no trusted root is Intel\'s with ATTESTATION_ROOT_UNTRUSTED', async () => {
    const docs = Object.fromEntries(Object.entries(bundle.documents).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    expect(await codeOf(Promise.resolve().then(() => BUILTIN_VERIFIERS.tdx!(docs, { now, trustedRoots: ['ab'.repeat(32)] })))).toBe('ATTESTATION_ROOT_UNTRUSTED');
  });

  it('refuses a tdx bundle without its collateral with ATTESTATION_MALFORMED', async () => {
    const partial: EvidenceBundle = { ...bundle, documents: { quote: bundle.documents['quote']! } };
    expect(await codeOf(verifyEvidence(partial, { policy: productionPolicy(), now, ...expected, verifiers: BUILTIN_VERIFIERS }))).toBe('ATTESTATION_MALFORMED');
  });
});
