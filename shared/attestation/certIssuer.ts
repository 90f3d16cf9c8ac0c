/**
 * Issues ECDSA P-384 / SHA-384 X.509 certificates: the development attestor's root, intermediate and per-document
 * leaves, and the foreign chains tests sign with. Built from `@peculiar/asn1-x509` structures and signed by
 * node:crypto; never used to verify anything.
 */
import { constants, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { OID_ECDSA_SHA384, OID_MGF1, OID_RSASSA_PSS, OID_SHA384 } from './x509.js';

const OID_COMMON_NAME = '2.5.4.3';

/** A P-384 key pair. */
export interface P384KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh P-384 key pair. */
export function generateP384(): P384KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'P-384' });
}

function name(commonName: string): Name {
  return new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: OID_COMMON_NAME, value: new AttributeValue({ utf8String: commonName }) })])]);
}

/** What {@link issueCertificate} needs. */
export interface IssueCertificateParams {
  subject: string;
  subjectPublicKey: KeyObject;
  /** Common name of the issuer (equal to `subject` for a self-signed root). */
  issuer: string;
  issuerPrivateKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** A CA certificate (basicConstraints cA, keyCertSign) with this path length, or a leaf when absent. */
  ca?: { pathLen?: number };
  /** Signature algorithm OID written into the certificate (tests write a wrong one on purpose). */
  signatureAlgorithm?: string;
  /** Sign with RSA-PSS (SHA-384, MGF1-SHA-384, this salt length) instead of ECDSA; the issuer key must be RSA. */
  rsaPssSaltLength?: number;
  /** Further extensions: OID → the extension's inner DER value. */
  extraExtensions?: Readonly<Record<string, Uint8Array>>;
}

function rsaPssAlgorithm(saltLength: number): AlgorithmIdentifier {
  const sha384 = new AlgorithmIdentifier({ algorithm: OID_SHA384, parameters: null });
  const params = new RsaSaPssParams({
    hashAlgorithm: sha384,
    maskGenAlgorithm: new AlgorithmIdentifier({ algorithm: OID_MGF1, parameters: AsnConvert.serialize(sha384) }),
    saltLength,
  });
  return new AlgorithmIdentifier({ algorithm: OID_RSASSA_PSS, parameters: AsnConvert.serialize(params) });
}

/** Issues a certificate and returns its DER. */
export function issueCertificate(p: IssueCertificateParams): Buffer {
  const alg = p.rsaPssSaltLength === undefined ? new AlgorithmIdentifier({ algorithm: p.signatureAlgorithm ?? OID_ECDSA_SHA384 }) : rsaPssAlgorithm(p.rsaPssSaltLength);
  const extra = Object.entries(p.extraExtensions ?? {}).map(([id, v]) => new Extension({ extnID: id, critical: false, extnValue: new OctetString(v) }));
  const ext = (id: string, value: object, critical: boolean): Extension =>
    new Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
  const serial = randomBytes(16);
  // Positive and minimal: a first byte of 0x00 would make the DER INTEGER non-minimal (1 certificate in 128), which
  // strict parsers (OpenSSL, node's X509Certificate) refuse.
  serial[0] = 0x40 | (serial[0]! & 0x3f);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array(serial).buffer,
    signature: alg,
    issuer: name(p.issuer),
    validity: new Validity({ notBefore: p.notBefore, notAfter: p.notAfter }),
    subject: name(p.subject),
    subjectPublicKeyInfo: AsnConvert.parse(p.subjectPublicKey.export({ format: 'der', type: 'spki' }), SubjectPublicKeyInfo),
    extensions: new Extensions([
      ...(p.ca === undefined
        ? [ext(id_ce_basicConstraints, new BasicConstraints({ cA: false }), true), ext(id_ce_keyUsage, new KeyUsage(KeyUsageFlags.digitalSignature), true)]
        : [
            ext(id_ce_basicConstraints, new BasicConstraints({ cA: true, ...(p.ca.pathLen === undefined ? {} : { pathLenConstraint: p.ca.pathLen }) }), true),
            ext(id_ce_keyUsage, new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature), true),
          ]),
      ...extra,
    ]),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature =
    p.rsaPssSaltLength === undefined
      ? sign('sha384', tbsDer, { key: p.issuerPrivateKey, dsaEncoding: 'der' })
      : sign('sha384', tbsDer, { key: p.issuerPrivateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.rsaPssSaltLength });
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: alg, signatureValue: new Uint8Array(signature).buffer });
  return Buffer.from(AsnConvert.serialize(cert));
}
