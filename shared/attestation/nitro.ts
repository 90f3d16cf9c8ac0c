/**
 * AWS Nitro Enclaves attestation documents: COSE_Sign1 (RFC 9052), tagged (18) or untagged, ES384 over the
 * Sig_structure `["Signature1", protected, h'', payload]`, payload a CBOR map signed by a leaf certificate that
 * chains through `cabundle` to the pinned AWS Nitro root G1. CBOR is decoded by cbor-x; the Sig_structure is
 * encoded here byte by byte, so what is verified does not depend on an encoder's choices.
 *
 * Reference: https://docs.aws.amazon.com/enclaves/latest/user/verify-root.html
 */
import { verify as cryptoVerify } from 'node:crypto';
import { Decoder, Tag } from 'cbor-x';
import { AttestationError } from './errors.js';
import type { EvidenceVerifier, VerifiedEvidence, VerifierContext } from './types.js';
import { parseCert, verifyChain, type ParsedCert } from './x509.js';

/**
 * SHA-256 of the DER of the AWS Nitro Enclaves Root G1 (CN=aws.nitro-enclaves, valid 2019-10-28 to 2049-10-28), as
 * AWS publishes it (docs above; AWS_NitroEnclaves_Root-G1.zip). The real fixture's `cabundle[0]` has this digest
 * (attestation.test.ts checks it).
 */
export const AWS_NITRO_ROOT_G1_SHA256 = '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';

/**
 * The subject common name the development attestor gives its root. Only used to say *why* a chain is refused
 * (`ATTESTATION_DEV_ROOT_REFUSED` instead of `ATTESTATION_ROOT_UNTRUSTED`): anyone can write this name, so it never
 * makes a root trusted.
 */
export const DEV_ROOT_COMMON_NAME = 'Provena Development Attestation Root';

/** COSE algorithm id of ES384 (ECDSA P-384 with SHA-384). */
const COSE_ALG_ES384 = -35;
const COSE_HEADER_ALG = 1;
const COSE_SIGN1_TAG = 18;

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });

/** The decoded payload of a Nitro attestation document. */
export interface NitroPayload {
  moduleId: string;
  digest: string;
  timestamp: Date;
  pcrs: Map<number, Buffer>;
  certificate: Buffer;
  cabundle: Buffer[];
  publicKey?: Buffer;
  userData?: Buffer;
  nonce?: Buffer;
}

/** The four parts of a COSE_Sign1 message. */
export interface CoseSign1 {
  protectedHeader: Buffer;
  payload: Buffer;
  signature: Buffer;
}

function malformed(message: string, cause?: unknown): AttestationError {
  return new AttestationError('ATTESTATION_MALFORMED', message, cause === undefined ? {} : { cause });
}

function decodeCbor(bytes: Uint8Array, what: string): unknown {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw malformed(`${what} is not CBOR`, cause);
  }
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

/** Splits a COSE_Sign1 message (tag 18 or untagged) into its parts. */
export function decodeCoseSign1(bytes: Uint8Array): CoseSign1 {
  let top = decodeCbor(bytes, 'attestation document');
  if (top instanceof Tag) {
    if (top.tag !== COSE_SIGN1_TAG) throw malformed(`attestation document has CBOR tag ${top.tag}, expected ${COSE_SIGN1_TAG} (COSE_Sign1)`);
    top = top.value;
  }
  if (!Array.isArray(top) || top.length !== 4) throw malformed('attestation document is not a COSE_Sign1 array of four');
  const [protectedHeader, unprotected, payload, signature] = top as unknown[];
  if (!isBytes(protectedHeader) || !(unprotected instanceof Map) || !isBytes(payload) || !isBytes(signature)) {
    throw malformed('COSE_Sign1 parts have the wrong types');
  }
  return { protectedHeader: Buffer.from(protectedHeader), payload: Buffer.from(payload), signature: Buffer.from(signature) };
}

function cborHead(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(length, 1);
  return b;
}

const bstr = (b: Uint8Array): Buffer => Buffer.concat([cborHead(2, b.length), b]);

/** The COSE Sig_structure for Sign1 with empty external AAD: what ES384 signs. */
export function sigStructure(protectedHeader: Uint8Array, payload: Uint8Array): Buffer {
  const context = Buffer.from('Signature1', 'ascii');
  return Buffer.concat([cborHead(4, 4), cborHead(3, context.length), context, bstr(protectedHeader), bstr(new Uint8Array(0)), bstr(payload)]);
}

function checkAlgorithm(protectedHeader: Buffer): void {
  const header = decodeCbor(protectedHeader, 'protected header');
  if (!(header instanceof Map)) throw malformed('protected header is not a CBOR map');
  const alg: unknown = header.get(COSE_HEADER_ALG);
  if (alg !== COSE_ALG_ES384) throw new AttestationError('ATTESTATION_ALGORITHM_UNSUPPORTED', `COSE algorithm ${String(alg)} is not ES384 (-35)`);
}

function optionalBytes(m: Map<unknown, unknown>, key: string): Buffer | undefined {
  const v = m.get(key);
  if (v === undefined || v === null) return undefined;
  if (!isBytes(v)) throw malformed(`payload field ${key} is not a byte string`);
  return Buffer.from(v);
}

/** Decodes and checks the shape of the payload map (all fields AWS documents as mandatory must be there). */
export function decodeNitroPayload(payload: Uint8Array): NitroPayload {
  const m = decodeCbor(payload, 'payload');
  if (!(m instanceof Map)) throw malformed('payload is not a CBOR map');
  const moduleId = m.get('module_id');
  const digest = m.get('digest');
  const timestamp = m.get('timestamp');
  const pcrs = m.get('pcrs');
  const certificate = m.get('certificate');
  const cabundle = m.get('cabundle');
  if (typeof moduleId !== 'string' || moduleId.length === 0) throw malformed('payload has no module_id');
  if (digest !== 'SHA384') throw malformed(`payload digest ${String(digest)} is not SHA384`);
  if (typeof timestamp !== 'number' && typeof timestamp !== 'bigint') throw malformed('payload has no timestamp');
  if (!(pcrs instanceof Map) || pcrs.size === 0 || pcrs.size > 32) throw malformed('payload has no pcrs map');
  if (!isBytes(certificate)) throw malformed('payload has no certificate');
  if (!Array.isArray(cabundle) || cabundle.length === 0 || !cabundle.every(isBytes)) throw malformed('payload has no cabundle');
  const pcrMap = new Map<number, Buffer>();
  for (const [k, v] of pcrs as Map<unknown, unknown>) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= 32) throw malformed(`PCR index ${String(k)} is invalid`);
    if (!isBytes(v) || ![32, 48, 64].includes(v.length)) throw malformed(`PCR${k} has a wrong length`);
    pcrMap.set(k, Buffer.from(v));
  }
  const ms = Number(timestamp);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw malformed('payload timestamp is out of range');
  const out: NitroPayload = {
    moduleId,
    digest,
    timestamp: new Date(ms),
    pcrs: pcrMap,
    certificate: Buffer.from(certificate),
    cabundle: (cabundle as Uint8Array[]).map((c) => Buffer.from(c)),
  };
  const publicKey = optionalBytes(m, 'public_key');
  const userData = optionalBytes(m, 'user_data');
  const nonce = optionalBytes(m, 'nonce');
  if (publicKey !== undefined) out.publicKey = publicKey;
  if (userData !== undefined) out.userData = userData;
  if (nonce !== undefined) out.nonce = nonce;
  return out;
}

const isDevRoot = (root: ParsedCert): boolean => root.node.subject.split('\n').includes(`CN=${DEV_ROOT_COMMON_NAME}`);

/**
 * Verifies one Nitro attestation document at `ctx.now`: algorithm ES384, the chain leaf → cabundle (last to first)
 * → a root in `ctx.trustedRoots`, every certificate valid at `now`, then the COSE signature by the leaf.
 * Returns the normalized evidence; the policy (debug, PCRs, nonce, key, age) is applied by `verifyEvidence`.
 *
 * Errors: ATTESTATION_MALFORMED, ATTESTATION_ALGORITHM_UNSUPPORTED, ATTESTATION_ROOT_UNTRUSTED,
 * ATTESTATION_DEV_ROOT_REFUSED, ATTESTATION_CHAIN_INVALID, ATTESTATION_CERT_EXPIRED, ATTESTATION_CERT_NOT_YET_VALID,
 * ATTESTATION_SIGNATURE_INVALID.
 */
export function verifyNitroDocument(document: Uint8Array, ctx: VerifierContext): VerifiedEvidence {
  const cose = decodeCoseSign1(document);
  checkAlgorithm(cose.protectedHeader);
  const p = decodeNitroPayload(cose.payload);
  const leaf = parseCert(p.certificate, 'leaf certificate');
  // cabundle is ordered root first; the chain is checked leaf first.
  const chain = [leaf, ...p.cabundle.map((c, i) => parseCert(c, `cabundle[${i}]`)).reverse()];
  const rootFingerprint = verifyChain(chain, { trustedRoots: ctx.trustedRoots, now: ctx.now, algorithm: 'ecdsa-sha384', isDevRoot });
  const leafKey = leaf.node.publicKey;
  if (leafKey.asymmetricKeyDetails?.namedCurve !== 'secp384r1') {
    throw new AttestationError('ATTESTATION_ALGORITHM_UNSUPPORTED', 'leaf certificate key is not P-384');
  }
  if (cose.signature.length !== 96) throw new AttestationError('ATTESTATION_SIGNATURE_INVALID', 'ES384 signature is not 96 bytes');
  const ok = cryptoVerify('sha384', sigStructure(cose.protectedHeader, cose.payload), { key: leafKey, dsaEncoding: 'ieee-p1363' }, cose.signature);
  if (!ok) throw new AttestationError('ATTESTATION_SIGNATURE_INVALID', 'COSE_Sign1 signature does not verify under the leaf certificate');

  const measurements: Record<string, string> = {};
  for (const [i, v] of [...p.pcrs].sort((a, b) => a[0] - b[0])) measurements[`PCR${i}`] = v.toString('hex');
  const pcr0 = p.pcrs.get(0);
  const evidence: VerifiedEvidence = {
    kind: 'nitro',
    measurements,
    // An enclave started with --debug-mode reports all-zero PCRs (AWS: "in debug mode, the PCRs contain only
    // zeros"), since its memory and console are then readable from the parent: no measurement can vouch for it.
    debug: pcr0 === undefined || pcr0.every((b) => b === 0),
    bindings: {
      ...(p.nonce === undefined ? {} : { nonce: p.nonce.toString('hex') }),
      ...(p.publicKey === undefined ? {} : { publicKey: p.publicKey.toString('hex') }),
      ...(p.userData === undefined ? {} : { userData: p.userData.toString('hex') }),
    },
    issuedAt: p.timestamp,
    rootFingerprint,
    details: { moduleId: p.moduleId },
  };
  return evidence;
}

/** The {@link EvidenceVerifier} for `nitro` bundles: documents `{document}`. */
export const nitroVerifier: EvidenceVerifier = (documents, ctx) => {
  const doc = documents['document'];
  if (doc === undefined) throw malformed('nitro evidence needs a "document"');
  return verifyNitroDocument(doc, ctx);
};
