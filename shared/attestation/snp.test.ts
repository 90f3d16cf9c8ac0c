import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { generateP384, issueCertificate } from './certIssuer.js';
import { AMD_ARK_MILAN_SHA256, parseSnpReport, pemCertificates, verifySnpReport } from './snp.js';
import { codeOfSync, flip, snpFixture, syntheticSnp } from '../../test/support/attestation/testkit.js';
import { certFingerprint } from './x509.js';

const milan = [AMD_ARK_MILAN_SHA256];
const input = (over: Partial<{ report: Buffer; vcek: Buffer; chain: Buffer[] }> = {}) => ({
  report: snpFixture.report(),
  vcek: snpFixture.vcek(),
  chain: pemCertificates(snpFixture.chainPem().toString('utf8')),
  ...over,
});
const verifyAt = (i = input(), now = snpFixture.at, trustedRoots: readonly string[] = milan) => codeOfSync(() => verifySnpReport(i, { now, trustedRoots }));

describe('SEV-SNP attestation report (real Milan fixture)', () => {
  it('carries the pinned Milan ARK as the last certificate of its chain', () => {
    const [ask, ark] = input().chain;

    expect(ask).toBeDefined();
    expect(certFingerprint(ark!)).toBe(AMD_ARK_MILAN_SHA256);
  });

  it('parses as a version 2 report whose guest policy allows debugging', () => {
    const r = parseSnpReport(snpFixture.report());

    expect(r.version).toBe(2);
    expect(r.policy).toBe(0xb0000n);
    expect(r.signatureAlgo).toBe(1);
    expect(r.reportedTcb).toEqual({ bootloader: 2, tee: 0, snp: 5, microcode: 68 });
  });

  it('verifies its signature under the VCEK and the chain VCEK → ASK → pinned ARK, and reports debug', () => {
    const e = verifySnpReport(input(), { now: snpFixture.at, trustedRoots: milan });

    expect(e.kind).toBe('sev-snp');
    expect(e.rootFingerprint).toBe(AMD_ARK_MILAN_SHA256);
    expect(e.debug).toBe(true);
    expect(e.measurements['MEASUREMENT']).toBe('b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01');
    expect(e.bindings.reportData).toBe('0102030405' + '00'.repeat(59));
  });

  it('is refused with ATTESTATION_CERT_EXPIRED after the VCEK expired (2029-09-24)', () => {
    expect(verifyAt(input(), new Date('2029-09-25T00:00:00Z'))).toBe('ATTESTATION_CERT_EXPIRED');
  });

  it('is refused with ATTESTATION_CERT_NOT_YET_VALID before the VCEK was issued (2022-09-24)', () => {
    expect(verifyAt(input(), new Date('2022-09-23T00:00:00Z'))).toBe('ATTESTATION_CERT_NOT_YET_VALID');
  });

  it('is refused with ATTESTATION_SIGNATURE_INVALID when a byte of the measurement is flipped', () => {
    expect(verifyAt(input({ report: flip(snpFixture.report(), 0x90 + 7) }))).toBe('ATTESTATION_SIGNATURE_INVALID');
  });

  it('is refused with ATTESTATION_SIGNATURE_INVALID when the DEBUG bit of the guest policy is cleared', () => {
    expect(verifyAt(input({ report: flip(snpFixture.report(), 0x0a, 0x08) }))).toBe('ATTESTATION_SIGNATURE_INVALID');
  });

  it('is refused with ATTESTATION_SIGNATURE_INVALID when a byte of the signature is flipped', () => {
    expect(verifyAt(input({ report: flip(snpFixture.report(), 0x2a0 + 3) }))).toBe('ATTESTATION_SIGNATURE_INVALID');
    expect(verifyAt(input({ report: flip(snpFixture.report(), 0x2a0 + 72 + 40) }))).toBe('ATTESTATION_SIGNATURE_INVALID');
  });

  it('is refused with ATTESTATION_CHAIN_INVALID when a byte of the VCEK signature is flipped', () => {
    const vcek = snpFixture.vcek();

    expect(verifyAt(input({ vcek: flip(vcek, vcek.length - 1) }))).toBe('ATTESTATION_CHAIN_INVALID');
  });

  it('is refused with ATTESTATION_ALGORITHM_UNSUPPORTED when the VCEK is not signed with RSA-PSS SHA-384', () => {
    const other = generateP384();
    const der = issueCertificate({ subject: 'SEV-VCEK', subjectPublicKey: other.publicKey, issuer: 'SEV-Milan', issuerPrivateKey: other.privateKey, notBefore: new Date('2022-01-01'), notAfter: new Date('2030-01-01') });

    expect(verifyAt(input({ vcek: der }))).toBe('ATTESTATION_ALGORITHM_UNSUPPORTED');
  });

  it('is refused with ATTESTATION_ROOT_UNTRUSTED when the ARK is replaced by a foreign one', () => {
    const k = generateP384();
    const foreignArk = issueCertificate({ subject: 'ARK-Milan', subjectPublicKey: k.publicKey, issuer: 'ARK-Milan', issuerPrivateKey: k.privateKey, notBefore: new Date('2020-01-01'), notAfter: new Date('2045-01-01'), ca: {} });
    const [ask] = input().chain;

    expect(verifyAt(input({ chain: [ask!, foreignArk] }))).toBe('ATTESTATION_ROOT_UNTRUSTED');
    expect(verifyAt(input(), snpFixture.at, [certFingerprint(foreignArk)])).toBe('ATTESTATION_ROOT_UNTRUSTED');
  });

  it('is refused with ATTESTATION_CHAIN_INVALID when the ASK is missing', () => {
    const [, ark] = input().chain;

    expect(verifyAt(input({ chain: [ark!] }))).toBe('ATTESTATION_CHAIN_INVALID');
  });

  it('is refused with ATTESTATION_ALGORITHM_UNSUPPORTED when the report names another signature algorithm', () => {
    expect(verifyAt(input({ report: flip(snpFixture.report(), 0x34, 0x03) }))).toBe('ATTESTATION_ALGORITHM_UNSUPPORTED');
  });

  it('is refused with ATTESTATION_ALGORITHM_UNSUPPORTED when the report says a VLEK signed it', () => {
    expect(verifyAt(input({ report: flip(snpFixture.report(), 0x48, 0x04) }))).toBe('ATTESTATION_ALGORITHM_UNSUPPORTED');
  });

  it('is refused with ATTESTATION_MALFORMED when the report is truncated', () => {
    expect(verifyAt(input({ report: snpFixture.report().subarray(0, 1000) }))).toBe('ATTESTATION_MALFORMED');
  });

  it('is never accepted with any byte of the signed part or the signature changed (property)', () => {
    const report = snpFixture.report();
    const refusals = new Set(['ATTESTATION_SIGNATURE_INVALID', 'ATTESTATION_MALFORMED', 'ATTESTATION_ALGORITHM_UNSUPPORTED']);

    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x2a0 + 144 - 1 }), fc.integer({ min: 1, max: 255 }), (i, mask) => {
        expect(refusals.has(verifyAt(input({ report: flip(report, i, mask) })))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

describe('SEV-SNP rules beyond the fixture (generated AMD-shaped chain)', () => {
  it('verifies a report signed by a VCEK whose TCB and hardware id match it, and reports no debug', () => {
    const s = syntheticSnp();

    const e = verifySnpReport(s.input, { now: snpFixture.at, trustedRoots: [s.root] });

    expect(e.debug).toBe(false);
    expect(e.rootFingerprint).toBe(s.root);
  });

  it('is refused with ATTESTATION_TCB_REFUSED when the reported TCB is not the one the VCEK certifies', () => {
    const s = syntheticSnp({ vcekSnpSpl: 6 });

    expect(verifyAt(s.input, snpFixture.at, [s.root])).toBe('ATTESTATION_TCB_REFUSED');
  });

  it("is refused with ATTESTATION_CHAIN_INVALID when the VCEK belongs to another chip", () => {
    const s = syntheticSnp({ hwid: Buffer.alloc(64, 7) });

    expect(verifyAt(s.input, snpFixture.at, [s.root])).toBe('ATTESTATION_CHAIN_INVALID');
  });

  it('is refused with ATTESTATION_ALGORITHM_UNSUPPORTED when the VCEK is signed with an RSA-PSS salt other than 48', () => {
    const s = syntheticSnp({ salt: 32 });

    expect(verifyAt(s.input, snpFixture.at, [s.root])).toBe('ATTESTATION_ALGORITHM_UNSUPPORTED');
  });
});
