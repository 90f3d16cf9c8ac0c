/**
 * X.509 chain checks shared by the attestation verifiers.
 *
 * Parsing uses `@peculiar/asn1-x509` (exact validity instants, extensions, signature-algorithm parameters: node's
 * `X509Certificate` exposes none of these precisely). Signatures are checked by node:crypto
 * (`X509Certificate.verify`, OpenSSL), which handles ECDSA and RSA-PSS with the parameters in the certificate.
 * `@peculiar/x509` is not used: version 2 needs a `reflect-metadata` polyfill at import, which is not installed.
 */
import { createHash, X509Certificate as NodeX509 } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, BasicConstraints, Certificate, id_ce_basicConstraints, id_ce_keyUsage, KeyUsage, KeyUsageFlags } from '@peculiar/asn1-x509';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { AttestationError } from './errors.js';

/** OID of ecdsa-with-SHA384. */
export const OID_ECDSA_SHA384 = '1.2.840.10045.4.3.3';
/** OID of RSASSA-PSS (parameters say which hash and salt). */
export const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
/** OID of SHA-384. */
export const OID_SHA384 = '2.16.840.1.101.3.4.2.2';
/** OID of MGF1. */
export const OID_MGF1 = '1.2.840.113549.1.1.8';

/** A parsed certificate: the DER, node's view (for signatures and keys) and the ASN.1 view (for fields). */
export interface ParsedCert {
  readonly der: Buffer;
  readonly node: NodeX509;
  readonly asn: Certificate;
  /** SHA-256 hex of the DER: how roots are pinned. */
  readonly fingerprint: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** SHA-256 hex of a DER certificate. */
export function certFingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * Parsed certificates by DER fingerprint. Roots and intermediates repeat across documents (the AWS root always, a
 * zonal intermediate for days) and ASN.1 parsing dominates verification time (about 12 ms a certificate here).
 * Keyed by the SHA-256 of the exact bytes, so a cached entry is the parse of the same input; signatures and
 * validity are still checked on every call. Bounded: the oldest entry goes first.
 */
const parsed = new Map<string, ParsedCert>();
const PARSED_CACHE_SIZE = 256;

/** Parses a DER certificate; anything that is not one is `ATTESTATION_MALFORMED`. */
export function parseCert(der: Uint8Array, what: string): ParsedCert {
  const buf = Buffer.from(der);
  const fingerprint = certFingerprint(buf);
  const hit = parsed.get(fingerprint);
  if (hit !== undefined) return hit;
  let cert: ParsedCert;
  try {
    const asn = AsnConvert.parse(buf, Certificate);
    const node = new NodeX509(buf);
    cert = {
      der: buf,
      node,
      asn,
      fingerprint,
      notBefore: asn.tbsCertificate.validity.notBefore.getTime(),
      notAfter: asn.tbsCertificate.validity.notAfter.getTime(),
    };
  } catch (cause) {
    throw new AttestationError('ATTESTATION_MALFORMED', `${what} is not a DER X.509 certificate`, { cause });
  }
  if (parsed.size >= PARSED_CACHE_SIZE) parsed.delete(parsed.keys().next().value!);
  parsed.set(fingerprint, cert);
  return cert;
}

/** The raw value (inner DER) of an extension, or undefined. */
export function extensionValue(cert: ParsedCert, oid: string): Buffer | undefined {
  const ext = cert.asn.tbsCertificate.extensions?.find((e) => e.extnID === oid);
  return ext === undefined ? undefined : Buffer.from(ext.extnValue.buffer);
}

/** The signature algorithm a chain requires of every certificate it contains. */
export type CertSignatureAlgorithm = 'ecdsa-sha384' | 'rsa-pss-sha384';

function checkSignatureAlgorithm(cert: ParsedCert, alg: CertSignatureAlgorithm, what: string): void {
  const sa = cert.asn.signatureAlgorithm;
  let ok = false;
  if (alg === 'ecdsa-sha384') ok = sa.algorithm === OID_ECDSA_SHA384;
  else if (sa.algorithm === OID_RSASSA_PSS && sa.parameters) {
    const p = AsnConvert.parse(sa.parameters, RsaSaPssParams);
    const mgfParams = p.maskGenAlgorithm.parameters;
    const mgfHash = mgfParams ? AsnConvert.parse(mgfParams, AlgorithmIdentifier).algorithm : undefined;
    ok = p.hashAlgorithm.algorithm === OID_SHA384 && p.maskGenAlgorithm.algorithm === OID_MGF1 && mgfHash === OID_SHA384 && p.saltLength === 48;
  }
  if (!ok) throw new AttestationError('ATTESTATION_ALGORITHM_UNSUPPORTED', `${what} is signed with ${sa.algorithm}, expected ${alg}`);
}

function isCa(cert: ParsedCert): { ca: boolean; pathLen: number | undefined; keyCertSign: boolean } {
  const bc = extensionValue(cert, id_ce_basicConstraints);
  const ku = extensionValue(cert, id_ce_keyUsage);
  const basic = bc === undefined ? undefined : AsnConvert.parse(bc, BasicConstraints);
  // A CA certificate without a keyUsage extension may sign certificates (RFC 5280 4.2.1.3).
  const keyCertSign = ku === undefined ? true : (AsnConvert.parse(ku, KeyUsage).toNumber() & KeyUsageFlags.keyCertSign) !== 0;
  return { ca: basic?.cA === true, pathLen: basic?.pathLenConstraint, keyCertSign };
}

/**
 * Certificate signatures already verified, as "certificate fingerprint > issuer fingerprint". A signature check is
 * a pure function of the two DERs, so a pair found here needs no second check; only successes are kept. Bounded.
 */
const verifiedPairs = new Set<string>();

function verifiedBy(cert: ParsedCert, issuer: ParsedCert): boolean {
  const pair = `${cert.fingerprint}>${issuer.fingerprint}`;
  if (verifiedPairs.has(pair)) return true;
  let ok = false;
  try {
    ok = cert.node.verify(issuer.node.publicKey);
  } catch {
    ok = false;
  }
  if (ok) {
    if (verifiedPairs.size >= PARSED_CACHE_SIZE) verifiedPairs.delete(verifiedPairs.values().next().value!);
    verifiedPairs.add(pair);
  }
  return ok;
}

/** Options of {@link verifyChain}. */
export interface VerifyChainOptions {
  /** SHA-256 fingerprints of the roots this chain may end at. */
  trustedRoots: readonly string[];
  now: Date;
  algorithm: CertSignatureAlgorithm;
  /** Says whether an untrusted root is a recognizable development root (then `ATTESTATION_DEV_ROOT_REFUSED`). */
  isDevRoot?: (root: ParsedCert) => boolean;
}

/**
 * Verifies `chain` (leaf first, root last): the root is pinned, every certificate is signed by the next with the
 * required algorithm (the root by itself), every issuer is a CA allowed to sign certificates within its path
 * length, and every certificate is valid at `now`. Returns the root's fingerprint.
 *
 * Order of checks (so each mutation yields one code): root pinned → algorithms → signatures → CA constraints →
 * validity.
 */
export function verifyChain(chain: readonly ParsedCert[], opts: VerifyChainOptions): string {
  const root = chain[chain.length - 1];
  if (root === undefined || chain.length < 2) throw new AttestationError('ATTESTATION_CHAIN_INVALID', 'certificate chain needs a leaf and a root');
  if (!opts.trustedRoots.includes(root.fingerprint)) {
    if (opts.isDevRoot?.(root) === true) {
      throw new AttestationError('ATTESTATION_DEV_ROOT_REFUSED', 'evidence is signed by a development attestation root, which this policy does not accept', {
        details: { rootFingerprint: root.fingerprint },
      });
    }
    throw new AttestationError('ATTESTATION_ROOT_UNTRUSTED', `chain ends at an untrusted root ${root.fingerprint}`, { details: { rootFingerprint: root.fingerprint } });
  }
  chain.forEach((c, i) => checkSignatureAlgorithm(c, opts.algorithm, i === 0 ? 'leaf certificate' : `certificate ${i}`));
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    const issuer = chain[Math.min(i + 1, chain.length - 1)]!;
    if (!verifiedBy(cert, issuer)) throw new AttestationError('ATTESTATION_CHAIN_INVALID', `certificate ${i} is not signed by certificate ${i + 1 < chain.length ? i + 1 : i}`);
    if (i > 0) {
      const c = isCa(cert);
      // pathLen counts the CA certificates below this one (the leaf is not counted).
      if (!c.ca || !c.keyCertSign || (c.pathLen !== undefined && c.pathLen < i - 1)) {
        throw new AttestationError('ATTESTATION_CHAIN_INVALID', `certificate ${i} may not issue certificates (basic constraints / key usage)`);
      }
    }
  }
  for (const [i, c] of chain.entries()) {
    if (opts.now < c.notBefore) {
      throw new AttestationError('ATTESTATION_CERT_NOT_YET_VALID', `certificate ${i} is valid from ${c.notBefore.toISOString()}`, { details: { index: i, notBefore: c.notBefore.toISOString() } });
    }
    if (opts.now > c.notAfter) {
      throw new AttestationError('ATTESTATION_CERT_EXPIRED', `certificate ${i} expired at ${c.notAfter.toISOString()}`, { details: { index: i, notAfter: c.notAfter.toISOString() } });
    }
  }
  return root.fingerprint;
}
