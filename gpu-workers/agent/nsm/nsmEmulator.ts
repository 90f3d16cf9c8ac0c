/**
 * An in-process NSM for tests and local runs: it answers the same CBOR requests as `/dev/nsm` with a real
 * COSE_Sign1 ES384 attestation document (the development attestor's builder, shared/attestation/devAttestor.ts),
 * signed by a fresh leaf under its own test chain (root → intermediate → leaf). Pin {@link NsmEmulator.rootFingerprint}
 * in a policy's `extraRoots.nitro` to have the production Nitro verifier accept it.
 */
import type { KeyObject } from 'node:crypto';
import { Decoder, Encoder } from 'cbor-x';
import { generateP384, issueCertificate } from '../../../shared/attestation/certIssuer.js';
import { devPcrs, signNitroDocument } from '../../../shared/attestation/devAttestor.js';
import { certFingerprint } from '../../../shared/attestation/x509.js';
import { NSM_LIMITS, type NsmTransport } from './nsmClient.js';

const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false });
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });
const ROOT_CN = 'Provena NSM Emulator Test Root';
const INTERMEDIATE_CN = 'Provena NSM Emulator Test Intermediate';

/** Options: the clock, the PCRs it reports, and a hook tests use to tamper with the answer. */
export interface NsmEmulatorOptions {
  now?: () => Date;
  pcrs?: ReadonlyMap<number, Uint8Array>;
  /** Rewrites the decoded request fields before the document is built (to emulate a misbehaving transport). */
  tamper?: (fields: { userData?: Buffer; nonce?: Buffer; publicKey?: Buffer }) => { userData?: Buffer; nonce?: Buffer; publicKey?: Buffer };
}

/** The emulated NSM: an {@link NsmTransport}. */
export class NsmEmulator implements NsmTransport {
  readonly rootCertificate: Buffer;
  private readonly intermediateKey: KeyObject;
  private readonly intermediateDer: Buffer;
  private readonly now: () => Date;

  constructor(private readonly o: NsmEmulatorOptions = {}) {
    this.now = o.now ?? (() => new Date());
    const t = this.now().getTime();
    const root = generateP384();
    this.rootCertificate = issueCertificate({ subject: ROOT_CN, subjectPublicKey: root.publicKey, issuer: ROOT_CN, issuerPrivateKey: root.privateKey, notBefore: new Date(t - 86_400_000), notAfter: new Date(t + 365 * 86_400_000), ca: {} });
    const inter = generateP384();
    this.intermediateKey = inter.privateKey;
    this.intermediateDer = issueCertificate({ subject: INTERMEDIATE_CN, subjectPublicKey: inter.publicKey, issuer: ROOT_CN, issuerPrivateKey: root.privateKey, notBefore: new Date(t - 3_600_000), notAfter: new Date(t + 30 * 86_400_000), ca: { pathLen: 0 } });
  }

  /** SHA-256 hex of the test root's DER. */
  get rootFingerprint(): string {
    return certFingerprint(this.rootCertificate);
  }

  /** The PCRs it reports (PCR0 is the measurement). */
  get pcrs(): ReadonlyMap<number, Uint8Array> {
    return this.o.pcrs ?? devPcrs('provena-nsm-emulator');
  }

  private answer(value: unknown): Uint8Array {
    return encoder.encode(value);
  }

  async request(bytes: Uint8Array): Promise<Uint8Array> {
    let req: unknown;
    try {
      req = decoder.decode(bytes);
    } catch {
      return this.answer(new Map([['Error', 'InvalidArgument']]));
    }
    const att = req instanceof Map ? req.get('Attestation') : undefined;
    if (!(att instanceof Map)) return this.answer(new Map([['Error', 'InvalidOperation']]));
    const fields: { userData?: Buffer; nonce?: Buffer; publicKey?: Buffer } = {};
    for (const [wire, name] of [['user_data', 'userData'], ['nonce', 'nonce'], ['public_key', 'publicKey']] as const) {
      const v: unknown = att.get(wire);
      if (v === null || v === undefined) continue;
      if (!(v instanceof Uint8Array)) return this.answer(new Map([['Error', 'InvalidArgument']]));
      if (v.length > NSM_LIMITS[name]) return this.answer(new Map([['Error', 'InputTooLarge']]));
      fields[name] = Buffer.from(v);
    }
    const f = this.o.tamper ? this.o.tamper(fields) : fields;
    const now = this.now();
    const leaf = generateP384();
    const leafDer = issueCertificate({ subject: 'i-0emulator0000000-enc0000000000000001', subjectPublicKey: leaf.publicKey, issuer: INTERMEDIATE_CN, issuerPrivateKey: this.intermediateKey, notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 3 * 3_600_000) });
    const document = signNitroDocument(
      {
        moduleId: 'i-0emulator0000000-enc0000000000000001',
        timestamp: now,
        pcrs: this.pcrs,
        certificate: leafDer,
        cabundle: [this.rootCertificate, this.intermediateDer],
        ...(f.nonce ? { nonce: f.nonce } : {}),
        ...(f.publicKey ? { publicKey: f.publicKey } : {}),
        ...(f.userData ? { userData: f.userData } : {}),
      },
      leaf.privateKey,
    );
    return this.answer(new Map([['Attestation', new Map([['document', document]])]]));
  }
}
