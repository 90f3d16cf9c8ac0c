import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyNvidiaGpuReport } from './nvidia.js';
import { NVIDIA_DEVICE_ROOT_SHA256 } from './nvidiaDeviceRoot.js';
import { parseNvidiaRim, type NvidiaRim } from './nvidiaRim.js';
import { buildCert, certPem } from '../../test/support/attestation/tdxTestPki.js';
import { codeOfSync, flip } from '../../test/support/attestation/testkit.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = path.resolve(repoRoot, '../shared/fixtures/nvidia');
const report = Buffer.from(readFileSync(path.join(dir, 'hopperAttestationReport.txt'), 'utf8').trim(), 'hex');
const certChainPem = readFileSync(path.join(dir, 'hopperCertChain.txt'), 'utf8');
const driverRim = parseNvidiaRim(readFileSync(path.join(dir, 'Driver_RIM_test_no_gpu.swidtag'), 'utf8'));
const vbiosRim = parseNvidiaRim(readFileSync(path.join(dir, '1010_0200_882_96005E0001_test_no_gpu.swidtag'), 'utf8'));
const now = new Date('2026-01-01T00:00:00Z');
const NONCE = '931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb';


function flipBy(buf: Buffer, at: number, x: number): Buffer {
  const out = Buffer.from(buf);
  out[at] = out[at]! ^ x;
  return out;
}

/** RIMs built from the report's own measurements: a reference that matches, for the negative cases below. */
function selfRims(measurements: Record<number, string>): NvidiaRim[] {
  const v = verifyNvidiaGpuReport(report, { now, certChainPem });
  const golden = new Map<number, string[]>();
  for (const [i, hex] of Object.entries(measurements)) golden.set(Number(i) - 1, [hex]);
  return [{ version: v.driverVersion!, golden }];
}

describe('verifyNvidiaGpuReport on the real Hopper sample', () => {
  it('verifies the signature and the chain to the pinned NVIDIA root and returns 64 measurements and the nonce', () => {
    const v = verifyNvidiaGpuReport(report, { now, certChainPem, expectedNonce: NONCE });
    expect(v.rootFingerprint).toBe(NVIDIA_DEVICE_ROOT_SHA256);
    expect(v.nonce).toBe(NONCE);
    expect(Object.keys(v.measurements)).toHaveLength(64);
    expect(v.measurements[1]).toMatch(/^[0-9a-f]{96}$/);
    expect(v.driverVersion).toBe('550.90.07');
    expect(v.vbiosVersion).toBe('96.00.9f.00.01');
    expect(v.ccMode).toBeUndefined();
    expect(v.debug).toBe(false);
    expect(v.rimChecked).toBe(false);
  });

  it('refuses the sample against the sample RIMs: they are for driver 545.00 and VBIOS 96.00.5E.00.01', () => {
    expect(driverRim.version).toBe('545.00');
    expect(vbiosRim.version).toBe('96.00.5e.00.01');
    let err: unknown;
    try {
      verifyNvidiaGpuReport(report, { now, certChainPem, rims: [driverRim, vbiosRim] });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ATTESTATION_MEASUREMENT_UNEXPECTED', details: { reason: 'rim-version', driverVersion: '550.90.07', vbiosVersion: '96.00.9f.00.01' } });
  });

  it('lists 33 active reference indexes in the two sample RIMs, none claimed twice', () => {
    expect(driverRim.golden.size + vbiosRim.golden.size).toBe(33);
    expect([...driverRim.golden.keys()].filter((i) => vbiosRim.golden.has(i))).toEqual([]);
  });

  it('refuses two RIMs that claim the same index with ATTESTATION_RIM_INVALID', () => {
    const { measurements, driverVersion } = verifyNvidiaGpuReport(report, { now, certChainPem });
    const [rim] = selfRims(measurements);
    expect(codeOfSync(() => verifyNvidiaGpuReport(report, { now, certChainPem, rims: [rim!, { version: driverVersion!, golden: new Map([[0, ['00']]]) }] }))).toBe('ATTESTATION_RIM_INVALID');
  });

  it('accepts RIMs that list its measurements, and refuses one measurement not in them', () => {
    const { measurements } = verifyNvidiaGpuReport(report, { now, certChainPem });
    const rims = selfRims(measurements);
    expect(verifyNvidiaGpuReport(report, { now, certChainPem, rims }).rimChecked).toBe(true);
    const golden = new Map(rims[0]!.golden);
    golden.set(6, ['00'.repeat(48)]);
    let err: unknown;
    try {
      verifyNvidiaGpuReport(report, { now, certChainPem, rims: [{ version: rims[0]!.version, golden }] });
    } catch (e) {
      err = e;
    }
    expect((err as { code: string }).code).toBe('ATTESTATION_MEASUREMENT_UNEXPECTED');
    expect((err as { details: { indexes: number[] } }).details.indexes).toEqual([7]);
  });

  it('refuses a flipped measurement byte with ATTESTATION_SIGNATURE_INVALID', () => {
    // first block's value starts at request(37) + response header(8) + block header(4) + DMTF header(3)
    expect(codeOfSync(() => verifyNvidiaGpuReport(flip(report, 37 + 8 + 7 + 5), { now, certChainPem }))).toBe('ATTESTATION_SIGNATURE_INVALID');
  });

  it('refuses a flipped signature byte with ATTESTATION_SIGNATURE_INVALID', () => {
    expect(codeOfSync(() => verifyNvidiaGpuReport(flip(report, report.length - 10), { now, certChainPem }))).toBe('ATTESTATION_SIGNATURE_INVALID');
  });

  it('refuses a changed request nonce with ATTESTATION_SIGNATURE_INVALID', () => {
    expect(codeOfSync(() => verifyNvidiaGpuReport(flip(report, 10), { now, certChainPem }))).toBe('ATTESTATION_SIGNATURE_INVALID');
  });

  it('refuses a report answering another nonce with ATTESTATION_NONCE_MISMATCH', () => {
    expect(codeOfSync(() => verifyNvidiaGpuReport(report, { now, certChainPem, expectedNonce: 'ab'.repeat(32) }))).toBe('ATTESTATION_NONCE_MISMATCH');
  });

  it('refuses a truncated chain (leaf only) with ATTESTATION_ROOT_UNTRUSTED', () => {
    const leafOnly = certChainPem.slice(0, certChainPem.indexOf('-----END CERTIFICATE-----') + 25);
    expect(codeOfSync(() => verifyNvidiaGpuReport(report, { now, certChainPem: leafOnly }))).toBe('ATTESTATION_ROOT_UNTRUSTED');
  });

  it('refuses the real chain when another root is pinned with ATTESTATION_ROOT_UNTRUSTED', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const foreign = buildCert({ subject: 'Foreign Device Identity CA', issuer: 'Foreign Device Identity CA', publicKey: key.publicKey, signingKey: key.privateKey, ca: true, notBefore: new Date('2020-01-01'), notAfter: new Date('2099-01-01'), serial: '01' });
    expect(codeOfSync(() => verifyNvidiaGpuReport(report, { now, certChainPem, roots: [certPem(foreign)] }))).toBe('ATTESTATION_ROOT_UNTRUSTED');
  });

  it('refuses the report at an instant before the chain was issued with ATTESTATION_CERT_NOT_YET_VALID', () => {
    expect(codeOfSync(() => verifyNvidiaGpuReport(report, { now: new Date('2019-01-01'), certChainPem }))).toBe('ATTESTATION_CERT_NOT_YET_VALID');
  });

  it('refuses a report without the signed CC feature flag when the caller requires it, with ATTESTATION_GPU_CC_OFF', () => {
    expect(codeOfSync(() => verifyNvidiaGpuReport(report, { now, certChainPem, requireCcFeatureFlag: true }))).toBe('ATTESTATION_GPU_CC_OFF');
  });

  it('refuses any single-byte change anywhere in the report, each with an ATTESTATION_ code', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: report.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        expect(codeOfSync(() => verifyNvidiaGpuReport(flipBy(report, at, x), { now, certChainPem }))).toMatch(/^ATTESTATION_/);
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a missing certificate chain with ATTESTATION_MALFORMED', () => {
    expect(codeOfSync(() => verifyNvidiaGpuReport(report, { now, certChainPem: '' }))).toBe('ATTESTATION_MALFORMED');
  });

  it('refuses a truncated report with ATTESTATION_MALFORMED', () => {
    expect(codeOfSync(() => verifyNvidiaGpuReport(report.subarray(0, 500), { now, certChainPem }))).toBe('ATTESTATION_MALFORMED');
  });
});
