/**
 * The development attestor: lets the embedded stack run the whole attested-worker story on a laptop. It produces
 * documents in exactly the AWS Nitro format (tagged COSE_Sign1, ES384, payload with PCRs, certificate and cabundle,
 * public_key, user_data, nonce), signed through root → intermediate → per-document leaf, where the root is a P-384
 * key generated at first start and kept under a directory (the embedded stack passes `.provena/`).
 *
 * Only the development policy ({@link devAttestationPolicy}: `production: false`, the root's fingerprint in
 * `extraRoots.dev`) accepts these documents. A production policy refuses them with `ATTESTATION_DEV_ROOT_REFUSED`,
 * whether posted as `dev` or passed off as `nitro` (the root's common name says what it is).
 */
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Encoder, Tag } from 'cbor-x';
import { ProvenaError } from '../errors.js';
import { generateP384, issueCertificate } from './certIssuer.js';
import { DEV_ROOT_COMMON_NAME, sigStructure } from './nitro.js';
import { AttestationPolicy, type EvidenceBundle } from './types.js';
import { certFingerprint } from './x509.js';

const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false });

/** File names of the development root under the directory given to {@link DevAttestor.open}. */
export const DEV_ROOT_FILES = { key: 'attestation-dev-root.key', certificate: 'attestation-dev-root.der' } as const;

/** The fields of a Nitro attestation payload, as {@link signNitroDocument} writes them. */
export interface NitroDocumentFields {
  moduleId: string;
  timestamp: Date;
  pcrs: ReadonlyMap<number, Uint8Array>;
  /** Leaf certificate DER. */
  certificate: Uint8Array;
  /** Root first, as AWS orders it. */
  cabundle: readonly Uint8Array[];
  publicKey?: Uint8Array;
  userData?: Uint8Array;
  nonce?: Uint8Array;
  /** Override of the protected header's algorithm (tests write a wrong one). Default ES384 (-35). */
  alg?: number;
  /** Leave these payload fields out (tests of missing fields). */
  omit?: readonly string[];
}

/**
 * Encodes and signs a Nitro-format COSE_Sign1 document with `leafKey` (P-384). Tagged (18) by default, as the NSM
 * returns it through most SDKs; `tagged: false` gives the bare array.
 */
export function signNitroDocument(fields: NitroDocumentFields, leafKey: KeyObject, opts: { tagged?: boolean } = {}): Buffer {
  const buf = (b: Uint8Array): Buffer => Buffer.from(b);
  const entries: [string, unknown][] = [
    ['module_id', fields.moduleId],
    ['digest', 'SHA384'],
    ['timestamp', BigInt(fields.timestamp.getTime())],
    ['pcrs', new Map([...fields.pcrs].map(([i, v]) => [i, buf(v)]))],
    ['certificate', buf(fields.certificate)],
    ['cabundle', fields.cabundle.map(buf)],
    ['public_key', fields.publicKey === undefined ? null : buf(fields.publicKey)],
    ['user_data', fields.userData === undefined ? null : buf(fields.userData)],
    ['nonce', fields.nonce === undefined ? null : buf(fields.nonce)],
  ];
  const payload = Buffer.from(encoder.encode(new Map(entries.filter(([k]) => !(fields.omit ?? []).includes(k)))));
  const protectedHeader = Buffer.from(encoder.encode(new Map([[1, fields.alg ?? -35]])));
  const signature = sign('sha384', sigStructure(protectedHeader, payload), { key: leafKey, dsaEncoding: 'ieee-p1363' });
  const message = [protectedHeader, new Map(), payload, signature];
  return Buffer.from(encoder.encode(opts.tagged === false ? message : new Tag(message, 18)));
}

/** PCR values of the development "enclave": fixed, non-zero (a dev document is not a debug enclave), 48 bytes each. */
export function devPcrs(image = 'provena-dev-worker'): Map<number, Buffer> {
  const pcrs = new Map<number, Buffer>();
  for (let i = 0; i < 16; i++) pcrs.set(i, i <= 2 ? createHash('sha384').update(`${image}:PCR${i}`).digest() : Buffer.alloc(48));
  return pcrs;
}

/** What {@link DevAttestor.attest} binds. All hex. */
export interface DevAttestParams {
  /** The API's nonce, carried in `nonce`. */
  nonce: string;
  /** The worker's key, carried in `public_key`. */
  publicKey?: string;
  /** Carried in `user_data` (for the binding rule: SHA-512(key ‖ nonce)). */
  userData?: string;
  now: Date;
  pcrs?: ReadonlyMap<number, Uint8Array>;
}

const hexBuf = (h: string): Buffer => Buffer.from(h.startsWith('0x') ? h.slice(2) : h, 'hex');

/**
 * A development attestor bound to one root on disk.
 *
 * @example
 * ```ts
 * const attestor = DevAttestor.open('.provena', { now: new Date() });
 * const bundle = attestor.bundle({ nonce, publicKey: workerKeyHex, now: new Date() });
 * await verifyEvidence(bundle, { policy: devAttestationPolicy(attestor.rootFingerprint), ... });
 * ```
 */
export class DevAttestor {
  private readonly intermediateKey: KeyObject;
  private readonly intermediateDer: Buffer;

  private constructor(
    private readonly rootKey: KeyObject,
    readonly rootCertificate: Buffer,
    now: Date,
  ) {
    const inter = generateP384();
    this.intermediateKey = inter.privateKey;
    this.intermediateDer = issueCertificate({
      subject: 'Provena Development Attestation Intermediate',
      subjectPublicKey: inter.publicKey,
      issuer: DEV_ROOT_COMMON_NAME,
      issuerPrivateKey: rootKey,
      notBefore: new Date(now.getTime() - 3_600_000),
      notAfter: new Date(now.getTime() + 30 * 86_400_000),
      ca: { pathLen: 0 },
    });
  }

  /** SHA-256 hex of the root's DER: what the development policy trusts. */
  get rootFingerprint(): string {
    return certFingerprint(this.rootCertificate);
  }

  /**
   * Loads the root from `dir`, or creates it there (key 0600) on first start. Refuses a key file that group or
   * others may read (`CONFIG_INVALID`).
   */
  static open(dir: string, opts: { now: Date }): DevAttestor {
    const keyPath = join(dir, DEV_ROOT_FILES.key);
    const certPath = join(dir, DEV_ROOT_FILES.certificate);
    if (existsSync(keyPath) && existsSync(certPath)) {
      if ((statSync(keyPath).mode & 0o077) !== 0) {
        throw new ProvenaError('CONFIG_INVALID', `${keyPath} is readable by group or others; chmod 600 it`);
      }
      return new DevAttestor(createPrivateKey(readFileSync(keyPath, 'utf8')), readFileSync(certPath), opts.now);
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const root = generateP384();
    const der = issueCertificate({
      subject: DEV_ROOT_COMMON_NAME,
      subjectPublicKey: root.publicKey,
      issuer: DEV_ROOT_COMMON_NAME,
      issuerPrivateKey: root.privateKey,
      notBefore: new Date(opts.now.getTime() - 86_400_000),
      notAfter: new Date(opts.now.getTime() + 10 * 365 * 86_400_000),
      ca: {},
    });
    writeFileSync(keyPath, root.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    chmodSync(keyPath, 0o600);
    writeFileSync(certPath, der);
    return new DevAttestor(root.privateKey, der, opts.now);
  }

  /** A Nitro-format attestation document binding `params`, signed by a fresh leaf under the development root. */
  attest(params: DevAttestParams, opts: { tagged?: boolean } = {}): Buffer {
    const leaf = generateP384();
    const leafDer = issueCertificate({
      subject: 'provena-dev-enclave',
      subjectPublicKey: leaf.publicKey,
      issuer: 'Provena Development Attestation Intermediate',
      issuerPrivateKey: this.intermediateKey,
      notBefore: new Date(params.now.getTime() - 60_000),
      notAfter: new Date(params.now.getTime() + 3 * 3_600_000),
    });
    return signNitroDocument(
      {
        moduleId: 'provena-dev-enclave',
        timestamp: params.now,
        pcrs: params.pcrs ?? devPcrs(),
        certificate: leafDer,
        cabundle: [this.rootCertificate, this.intermediateDer],
        nonce: hexBuf(params.nonce),
        ...(params.publicKey === undefined ? {} : { publicKey: hexBuf(params.publicKey) }),
        ...(params.userData === undefined ? {} : { userData: hexBuf(params.userData) }),
      },
      leaf.privateKey,
      opts,
    );
  }

  /** {@link attest}, wrapped as the bundle a worker posts (`kind: 'dev'`). */
  bundle(params: DevAttestParams): EvidenceBundle {
    return { kind: 'dev', documents: { document: this.attest(params).toString('base64') } };
  }

  /** The root's public key (for tests that want to check a signature by hand). */
  get rootPublicKey(): KeyObject {
    return createPublicKey(this.rootKey);
  }
}

/**
 * The development policy: accepts `dev` (and real `nitro`) evidence, debug allowed, any measurements, trusting the
 * given development root. Never use it outside the embedded stack: `production: false` is what makes it weak.
 */
export function devAttestationPolicy(rootFingerprint: string): AttestationPolicy {
  return AttestationPolicy.parse({
    production: false,
    kinds: ['dev', 'nitro'],
    modes: ['nitro'],
    maxAgeSeconds: 300,
    extraRoots: { dev: [rootFingerprint] },
  });
}
