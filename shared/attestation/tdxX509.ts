/**
 * Certificate-chain and CRL checks shared by the TDX and NVIDIA verifiers: pinned roots by SHA-256 fingerprint,
 * signatures link by link, CA constraints, validity at an injected instant, and CRL revocation.
 *
 * Signatures and validity use node:crypto's `X509Certificate` (OpenSSL); CRLs are parsed by `tdxDer.ts` and
 * verified by node:crypto. Nothing here reads the clock or the network.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { ProvenaError } from '../errors.js';
import { certSubjectDer, normSerial, parseCrl, type ParsedCrl } from './tdxDer.js';

/** Lowercase hex SHA-256 of a certificate's DER: how a root is pinned. */
export function certFingerprint(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex');
}

/** Splits a PEM bundle into certificates, in order. Throws ATTESTATION_MALFORMED on an unparsable one. */
export function parsePemChain(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ProvenaError('ATTESTATION_MALFORMED', 'No PEM certificate in the chain');
  return blocks.map((b, i) => parseCert(b, `certificate ${i}`));
}

/** Parses one DER or PEM certificate. Throws ATTESTATION_MALFORMED. */
export function parseCert(input: string | Uint8Array, what = 'certificate'): X509Certificate {
  try {
    return new X509Certificate(typeof input === 'string' ? input : Buffer.from(input));
  } catch (cause) {
    throw new ProvenaError('ATTESTATION_MALFORMED', `The ${what} does not parse`, { cause });
  }
}

/** What {@link verifyCertChain} checks the chain against. */
export interface ChainOptions {
  /** Trusted roots; the chain must end at (or be issued by) one of them, matched by DER fingerprint. */
  roots: readonly X509Certificate[];
  /** The instant at which every certificate must be valid. */
  now: Date;
  /** Names the chain in error messages ("PCK chain", "device chain"). */
  label: string;
}

/** The verified chain: leaf first, the pinned root last. */
export interface VerifiedChain {
  certs: X509Certificate[];
  root: X509Certificate;
  /** sha256 hex of the root's DER. */
  rootFingerprint: string;
}

/**
 * Verifies a leaf-first chain up to a pinned root.
 *
 * Order of checks (each with its own code): root pinned (ATTESTATION_ROOT_UNTRUSTED), each link's issuer name,
 * CA flag and signature (ATTESTATION_CHAIN_INVALID), then each certificate's validity at `now`
 * (ATTESTATION_CERT_NOT_YET_VALID / ATTESTATION_CERT_EXPIRED).
 */
export function verifyCertChain(chain: readonly X509Certificate[], opts: ChainOptions): VerifiedChain {
  if (chain.length === 0) throw new ProvenaError('ATTESTATION_CHAIN_INVALID', `The ${opts.label} is empty`);
  const pinned = new Map(opts.roots.map((r) => [certFingerprint(r), r]));
  const top = chain[chain.length - 1]!;
  let certs: X509Certificate[];
  let root: X509Certificate;
  const topRoot = pinned.get(certFingerprint(top));
  if (topRoot !== undefined) {
    certs = [...chain];
    root = topRoot;
  } else {
    // The chain may stop below the root: accept it only when a pinned root issued its top certificate.
    const issuer = [...pinned.values()].find((r) => top.checkIssued(r) && safeVerify(top, r));
    if (issuer === undefined) {
      throw new ProvenaError('ATTESTATION_ROOT_UNTRUSTED', `The ${opts.label} does not end at a pinned root`, {
        details: { top: top.subject, fingerprint: certFingerprint(top) },
      });
    }
    certs = [...chain, issuer];
    root = issuer;
  }
  if (!safeVerify(root, root)) throw new ProvenaError('ATTESTATION_CHAIN_INVALID', `The ${opts.label} root is not self-signed`);
  for (let i = 0; i < certs.length - 1; i++) {
    const child = certs[i]!;
    const parent = certs[i + 1]!;
    if (!child.checkIssued(parent) || !parent.ca || !safeVerify(child, parent)) {
      throw new ProvenaError('ATTESTATION_CHAIN_INVALID', `In the ${opts.label}, "${oneLine(child.subject)}" is not signed by "${oneLine(parent.subject)}"`, {
        details: { index: i },
      });
    }
  }
  for (const c of certs) checkValidity(c, opts.now, opts.label);
  return { certs, root, rootFingerprint: certFingerprint(root) };
}

function checkValidity(c: X509Certificate, now: Date, label: string): void {
  const from = new Date(c.validFrom);
  const to = new Date(c.validTo);
  if (now < from) {
    throw new ProvenaError('ATTESTATION_CERT_NOT_YET_VALID', `In the ${label}, "${oneLine(c.subject)}" is not valid before ${from.toISOString()}`);
  }
  if (now > to) {
    throw new ProvenaError('ATTESTATION_CERT_EXPIRED', `In the ${label}, "${oneLine(c.subject)}" expired at ${to.toISOString()}`);
  }
}

function safeVerify(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

function oneLine(dn: string): string {
  return dn.split('\n').join(', ');
}

/**
 * Checks a CRL issued by `issuer` (issuer name, signature, thisUpdate/nextUpdate around `now`) and refuses any of
 * `certs` whose serial it lists.
 *
 * Codes: ATTESTATION_COLLATERAL_INVALID (unparsable, wrong issuer, bad signature), ATTESTATION_COLLATERAL_EXPIRED
 * (outside its update window), ATTESTATION_CERT_REVOKED.
 */
export function checkCrl(crlBytes: Uint8Array | string, issuer: X509Certificate, certs: readonly X509Certificate[], now: Date, label: string): void {
  let crl: ParsedCrl;
  try {
    crl = parseCrl(crlBytes);
  } catch (cause) {
    throw new ProvenaError('ATTESTATION_COLLATERAL_INVALID', `The ${label} does not parse`, { cause });
  }
  if (!crl.issuerDer.equals(certSubjectDer(issuer))) {
    throw new ProvenaError('ATTESTATION_COLLATERAL_INVALID', `The ${label} is not issued by "${oneLine(issuer.subject)}"`);
  }
  if (!crl.verify(issuer)) throw new ProvenaError('ATTESTATION_COLLATERAL_INVALID', `The ${label} signature does not verify`);
  if (now < crl.thisUpdate || (crl.nextUpdate !== undefined && now > crl.nextUpdate)) {
    throw new ProvenaError('ATTESTATION_COLLATERAL_EXPIRED', `The ${label} is not current at ${now.toISOString()}`, {
      details: { thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate?.toISOString() },
    });
  }
  for (const c of certs) {
    if (crl.serials.has(normSerial(c.serialNumber))) {
      throw new ProvenaError('ATTESTATION_CERT_REVOKED', `"${oneLine(c.subject)}" (serial ${c.serialNumber}) is revoked by the ${label}`);
    }
  }
}
