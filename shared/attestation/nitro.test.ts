import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { X509Certificate } from 'node:crypto';
import { generateP384, issueCertificate } from './certIssuer.js';
import { signNitroDocument } from './devAttestor.js';
import { AWS_NITRO_ROOT_G1_SHA256, decodeCoseSign1, decodeNitroPayload, verifyNitroDocument } from './nitro.js';
import { codeOfSync, flip, nitroFixture } from '../../test/support/attestation/testkit.js';
import { certFingerprint } from './x509.js';

const aws = { trustedRoots: [AWS_NITRO_ROOT_G1_SHA256] };
const verifyAt = (doc: Uint8Array, now: Date = nitroFixture.at, trustedRoots: readonly string[] = aws.trustedRoots) =>
  codeOfSync(() => verifyNitroDocument(doc, { now, trustedRoots }));

const realPayload = () => decodeNitroPayload(decodeCoseSign1(nitroFixture.document()).payload);

/** A generated chain root → intermediate → leaf, valid around the fixture's instant. */
function foreignChain(opts: { leafAlg?: string } = {}) {
  const t = nitroFixture.at.getTime();
  const root = generateP384();
  const inter = generateP384();
  const leaf = generateP384();
  const rootDer = issueCertificate({ subject: 'foreign root', subjectPublicKey: root.publicKey, issuer: 'foreign root', issuerPrivateKey: root.privateKey, notBefore: new Date(t - 86_400_000), notAfter: new Date(t + 86_400_000), ca: {} });
  const interDer = issueCertificate({ subject: 'foreign inter', subjectPublicKey: inter.publicKey, issuer: 'foreign root', issuerPrivateKey: root.privateKey, notBefore: new Date(t - 86_400_000), notAfter: new Date(t + 86_400_000), ca: { pathLen: 0 } });
  const leafDer = issueCertificate({
    subject: 'foreign leaf', subjectPublicKey: leaf.publicKey, issuer: 'foreign inter', issuerPrivateKey: inter.privateKey,
    notBefore: new Date(t - 60_000), notAfter: new Date(t + 3_600_000), ...(opts.leafAlg === undefined ? {} : { signatureAlgorithm: opts.leafAlg }),
  });
  return { rootDer, interDer, leafDer, leafKey: leaf.privateKey, rootFingerprint: certFingerprint(rootDer) };
}

/** The real payload's fields, re-signed under a generated chain. */
function resigned(chain = foreignChain(), extra: { omit?: string[]; alg?: number } = {}): Buffer {
  const p = realPayload();
  return signNitroDocument(
    {
      moduleId: p.moduleId, timestamp: p.timestamp, pcrs: p.pcrs, certificate: chain.leafDer, cabundle: [chain.rootDer, chain.interDer],
      ...(p.publicKey ? { publicKey: p.publicKey } : {}), ...(p.userData ? { userData: p.userData } : {}), ...(p.nonce ? { nonce: p.nonce } : {}),
      ...extra,
    },
    chain.leafKey,
  );
}

describe('Nitro attestation document (real AWS fixture)', () => {
  it("has the pinned AWS Nitro root G1 as the first cabundle entry", () => {
    const root = realPayload().cabundle[0]!;

    expect(certFingerprint(root)).toBe(AWS_NITRO_ROOT_G1_SHA256);
    expect(new X509Certificate(root).subject).toContain('CN=aws.nitro-enclaves');
  });

  it('verifies its signature and chain at the instant it was produced, and reports debug mode', () => {
    const e = verifyNitroDocument(nitroFixture.document(), { now: nitroFixture.at, ...aws });

    expect(e.rootFingerprint).toBe(AWS_NITRO_ROOT_G1_SHA256);
    expect(e.debug).toBe(true);
    expect(e.measurements['PCR0']).toBe('00'.repeat(48));
    expect(e.measurements['PCR3']).toMatch(/^671ca1e3/);
    expect(e.bindings).toEqual({ nonce: nitroFixture.nonce, publicKey: nitroFixture.publicKey, userData: expect.stringMatching(/^1220c682/) });
    expect(e.issuedAt?.toISOString()).toBe('2024-09-06T04:33:12.729Z');
  });

  it('verifies in its tagged form (CBOR tag 18) as well as untagged', () => {
    const tagged = Buffer.concat([Buffer.from([0xd2]), nitroFixture.document()]);

    expect(verifyAt(tagged)).toBe('OK');
  });

  it('is refused as malformed under a CBOR tag other than 18', () => {
    expect(verifyAt(Buffer.concat([Buffer.from([0xd1]), nitroFixture.document()]))).toBe('ATTESTATION_MALFORMED');
  });

  it('is refused with ATTESTATION_CERT_EXPIRED after the leaf certificate expired (07:33:12Z)', () => {
    expect(verifyAt(nitroFixture.document(), new Date('2024-09-06T07:33:13Z'))).toBe('ATTESTATION_CERT_EXPIRED');
    expect(verifyAt(nitroFixture.document(), new Date('2026-01-01T00:00:00Z'))).toBe('ATTESTATION_CERT_EXPIRED');
  });

  it('is refused with ATTESTATION_CERT_NOT_YET_VALID before the leaf certificate was issued', () => {
    expect(verifyAt(nitroFixture.document(), new Date('2024-09-06T04:33:08Z'))).toBe('ATTESTATION_CERT_NOT_YET_VALID');
  });

  it('is refused with ATTESTATION_ROOT_UNTRUSTED when no root is pinned for it', () => {
    expect(verifyAt(nitroFixture.document(), nitroFixture.at, ['00'.repeat(32)])).toBe('ATTESTATION_ROOT_UNTRUSTED');
  });

  it('is refused with ATTESTATION_ROOT_UNTRUSTED when re-signed under a generated chain (foreign root)', () => {
    const chain = foreignChain();
    const doc = resigned(chain);

    expect(verifyAt(doc)).toBe('ATTESTATION_ROOT_UNTRUSTED');
    // the same document is otherwise sound: trusting the foreign root makes it verify
    expect(verifyAt(doc, nitroFixture.at, [chain.rootFingerprint])).toBe('OK');
  });

  it('is refused with ATTESTATION_SIGNATURE_INVALID when a PCR byte of the payload is flipped', () => {
    const doc = nitroFixture.document();
    const pcr3 = Buffer.from(realPayload().pcrs.get(3)!);
    const at = doc.indexOf(pcr3);

    expect(at).toBeGreaterThan(0);
    expect(verifyAt(flip(doc, at + 5))).toBe('ATTESTATION_SIGNATURE_INVALID');
  });

  it('is refused with ATTESTATION_SIGNATURE_INVALID when a byte of the signature is flipped', () => {
    const doc = nitroFixture.document();

    expect(verifyAt(flip(doc, doc.length - 10))).toBe('ATTESTATION_SIGNATURE_INVALID');
    expect(verifyAt(flip(doc, doc.length - 60))).toBe('ATTESTATION_SIGNATURE_INVALID');
  });

  it('is refused with ATTESTATION_CHAIN_INVALID when a byte of an intermediate certificate is flipped', () => {
    const doc = nitroFixture.document();
    const inter = realPayload().cabundle[2]!;
    const at = doc.indexOf(inter);

    // the last byte is inside the certificate's own ECDSA signature
    expect(verifyAt(flip(doc, at + inter.length - 1))).toBe('ATTESTATION_CHAIN_INVALID');
  });

  it('is refused with ATTESTATION_CHAIN_INVALID when a byte of the leaf certificate is flipped', () => {
    const doc = nitroFixture.document();
    const leaf = realPayload().certificate;
    const at = doc.indexOf(leaf);

    expect(verifyAt(flip(doc, at + leaf.length - 1))).toBe('ATTESTATION_CHAIN_INVALID');
  });

  it('is refused with ATTESTATION_ROOT_UNTRUSTED when a byte of the root certificate is flipped', () => {
    const doc = nitroFixture.document();
    const root = realPayload().cabundle[0]!;

    expect(verifyAt(flip(doc, doc.indexOf(root) + root.length - 1))).toBe('ATTESTATION_ROOT_UNTRUSTED');
  });

  it('is refused with ATTESTATION_ALGORITHM_UNSUPPORTED when the protected header names another algorithm', () => {
    const doc = nitroFixture.document();
    const at = doc.indexOf(Buffer.from('a1013822', 'hex')); // {1: -35}

    expect(at).toBeGreaterThan(0);
    expect(verifyAt(flip(doc, at + 3, 0x22 ^ 0x23))).toBe('ATTESTATION_ALGORITHM_UNSUPPORTED'); // -36 = ES512
    expect(verifyAt(flip(doc, at + 3, 0x22 ^ 0x26))).toBe('ATTESTATION_ALGORITHM_UNSUPPORTED'); // -39 = PS512
  });

  it('is refused with ATTESTATION_ALGORITHM_UNSUPPORTED when a certificate is not signed with ecdsa-with-SHA384', () => {
    const chain = foreignChain({ leafAlg: '1.2.840.10045.4.3.2' }); // ecdsa-with-SHA256 written into the leaf

    expect(verifyAt(resigned(chain), nitroFixture.at, [chain.rootFingerprint])).toBe('ATTESTATION_ALGORITHM_UNSUPPORTED');
  });

  it.each(['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle'])('is refused with ATTESTATION_MALFORMED when the payload has no %s', (field) => {
    const chain = foreignChain();

    expect(verifyAt(resigned(chain, { omit: [field] }), nitroFixture.at, [chain.rootFingerprint])).toBe('ATTESTATION_MALFORMED');
  });

  it('is refused with ATTESTATION_CHAIN_INVALID when a leaf certificate issues the signing certificate', () => {
    const t = nitroFixture.at.getTime();
    const chain = foreignChain();
    // the real leaf cannot issue: a generated leaf (not a CA) signs another leaf
    const fakeLeafKey = generateP384();
    const notCaDer = issueCertificate({ subject: 'not a ca', subjectPublicKey: fakeLeafKey.publicKey, issuer: 'foreign inter', issuerPrivateKey: chain.leafKey, notBefore: new Date(t - 60_000), notAfter: new Date(t + 3_600_000) });
    const p = realPayload();
    const doc = signNitroDocument(
      { moduleId: p.moduleId, timestamp: p.timestamp, pcrs: p.pcrs, certificate: notCaDer, cabundle: [chain.rootDer, chain.interDer, chain.leafDer] },
      fakeLeafKey.privateKey,
    );

    expect(verifyAt(doc, nitroFixture.at, [chain.rootFingerprint])).toBe('ATTESTATION_CHAIN_INVALID');
  });

  it('is never accepted with any single byte changed (property)', () => {
    const doc = nitroFixture.document();
    const refusals = new Set(['ATTESTATION_MALFORMED', 'ATTESTATION_SIGNATURE_INVALID', 'ATTESTATION_CHAIN_INVALID', 'ATTESTATION_ROOT_UNTRUSTED', 'ATTESTATION_ALGORITHM_UNSUPPORTED', 'ATTESTATION_CERT_EXPIRED', 'ATTESTATION_CERT_NOT_YET_VALID']);

    fc.assert(
      fc.property(fc.integer({ min: 0, max: doc.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, mask) => {
        expect(refusals.has(verifyAt(flip(doc, i, mask)))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
