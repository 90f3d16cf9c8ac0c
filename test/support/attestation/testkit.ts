/**
 * Test helpers for the attestation verifiers: the real fixtures (read from `../shared/fixtures` beside the
 * repository, where CI keeps a read-only copy) and byte mutations. Imported by tests only.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvenaError } from '../../../shared/errors.js';
import { generateP384, issueCertificate } from '../../../shared/attestation/certIssuer.js';
import { parseSnpReport } from '../../../shared/attestation/snp.js';
import { certFingerprint } from '../../../shared/attestation/x509.js';

/** The repository root (two levels above this file). */
export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
/** The shared fixtures folder. */
export const fixturesDir = path.resolve(repoRoot, '../shared/fixtures');

/** The real Nitro document (untagged COSE_Sign1) and the instant it verifies at. */
export const nitroFixture = {
  document: (): Buffer => Buffer.from(readFileSync(path.join(fixturesDir, 'nitro/aws-nitro-debug-2024-09-06.b64'), 'utf8').trim(), 'base64'),
  at: new Date('2024-09-06T04:33:12Z'),
  nonce: '0000000000000000000000000000000000000001',
  publicKey: Buffer.from('dummy').toString('hex'),
};

/** The real SEV-SNP report with its VCEK and Milan ASK+ARK PEM, and an instant inside the VCEK's validity. */
export const snpFixture = {
  report: (): Buffer => readFileSync(path.join(fixturesDir, 'sev-snp/attestation.bin')),
  vcek: (): Buffer => readFileSync(path.join(fixturesDir, 'sev-snp/vcek.testcer')),
  chainPem: (): Buffer => readFileSync(path.join(fixturesDir, 'sev-snp/milan.testcer')),
  at: new Date('2024-01-01T00:00:00Z'),
};

/** A copy of `b` with byte `i` XORed with `mask` (non-zero). */
export function flip(b: Uint8Array, i: number, mask = 0x01): Buffer {
  const out = Buffer.from(b);
  out[i] = out[i]! ^ mask;
  return out;
}

/** What a synchronous call ended with: 'OK' or the ProvenaError code (anything else is rethrown). */
export function codeOfSync(f: () => unknown): string {
  try {
    f();
    return 'OK';
  } catch (err) {
    if (err instanceof ProvenaError) return err.code;
    throw err;
  }
}

/** DER INTEGER of a small non-negative number (the VCEK's SPL extensions). */
const derInt = (n: number): Buffer => Buffer.from([0x02, 0x01, n]);

/**
 * A generated AMD-shaped chain (RSA-PSS ARK → ASK → P-384 VCEK with TCB and hwid extensions) and a report signed
 * by the VCEK: lets the rules that no real fixture reaches be tested (TCB and chip id against the VCEK, salt).
 */
export function syntheticSnp(opts: { vcekSnpSpl?: number; hwid?: Buffer; salt?: number; reportData?: Buffer } = {}) {
  const ark = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ask = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const vcek = generateP384();
  const real = parseSnpReport(snpFixture.report());
  const nb = new Date('2022-01-01T00:00:00Z');
  const na = new Date('2030-01-01T00:00:00Z');
  const salt = opts.salt ?? 48;
  const arkDer = issueCertificate({ subject: 'ARK-Test', subjectPublicKey: ark.publicKey, issuer: 'ARK-Test', issuerPrivateKey: ark.privateKey, notBefore: nb, notAfter: na, ca: {}, rsaPssSaltLength: 48 });
  const askDer = issueCertificate({ subject: 'SEV-Test', subjectPublicKey: ask.publicKey, issuer: 'ARK-Test', issuerPrivateKey: ark.privateKey, notBefore: nb, notAfter: na, ca: { pathLen: 0 }, rsaPssSaltLength: 48 });
  const vcekDer = issueCertificate({
    subject: 'SEV-VCEK', subjectPublicKey: vcek.publicKey, issuer: 'SEV-Test', issuerPrivateKey: ask.privateKey, notBefore: nb, notAfter: na, rsaPssSaltLength: salt,
    extraExtensions: {
      '1.3.6.1.4.1.3704.1.3.1': derInt(real.reportedTcb.bootloader),
      '1.3.6.1.4.1.3704.1.3.2': derInt(real.reportedTcb.tee),
      '1.3.6.1.4.1.3704.1.3.3': derInt(opts.vcekSnpSpl ?? real.reportedTcb.snp),
      '1.3.6.1.4.1.3704.1.3.8': derInt(real.reportedTcb.microcode),
      '1.3.6.1.4.1.3704.1.4': opts.hwid ?? real.chipId,
    },
  });
  const report = Buffer.from(snpFixture.report());
  report.writeBigUInt64LE(0x30000n, 0x08); // guest policy without DEBUG
  (opts.reportData ?? Buffer.alloc(64)).copy(report, 0x50);
  const sig = sign('sha384', report.subarray(0, 0x2a0), { key: vcek.privateKey, dsaEncoding: 'ieee-p1363' });
  report.fill(0, 0x2a0);
  Buffer.from(sig.subarray(0, 48)).reverse().copy(report, 0x2a0);
  Buffer.from(sig.subarray(48)).reverse().copy(report, 0x2a0 + 72);
  return { input: { report, vcek: vcekDer, chain: [askDer, arkDer] }, root: certFingerprint(arkDer) };
}

