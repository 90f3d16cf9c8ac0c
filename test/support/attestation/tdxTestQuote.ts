/**
 * Test-only: mints a complete synthetic TDX world (a generated root standing in for Intel's, a PCK chain with an
 * SGX extension, a TCB signing certificate, CRLs, signed TCB info and QE identity) and quotes v4/v5 signed in it,
 * so tests can change what a real quote cannot be re-signed with (DEBUG bit, v5 bodies, revoked serials, TCB
 * levels). Not imported by production code.
 */
import { createHash, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { TdxCollateral } from '../../../shared/attestation/tdx.js';
import { buildCert, buildCrl, certPem, int, octets, oid, seq, tlv } from './tdxTestPki.js';

const SGX = '1.2.840.113741.1.13.1';
const FROM = new Date('2023-01-01T00:00:00Z');
const TO = new Date('2030-01-01T00:00:00Z');
/** An instant at which everything minted here is valid. */
export const SYNTH_NOW = new Date('2024-06-01T00:00:00Z');
/** Intel's TD QE identity values (from the real QE identity), which the synthetic QE report claims. */
const QE_MRSIGNER = 'dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5';

function p256() {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** Options of {@link mintTdxWorld}. */
export interface WorldOptions {
  /** PCK serials (hex) the PCK CRL lists. */
  revokedPckSerials?: string[];
  /** Serials (hex) the root CA CRL lists (the platform CA is '02', the TCB signing certificate '04'). */
  revokedCaSerials?: string[];
  /** The platform's SGX TCB components and PCE SVN in the PCK certificate. */
  sgxSvns?: number[];
  pceSvn?: number;
  /** FMSPC of the TCB info (defaults to the PCK certificate's). */
  tcbInfoFmspc?: string;
  /** Status of the newest TCB level. */
  topStatus?: string;
  qeMrSigner?: string;
  /** Drops this field from the (signed) TCB info. */
  dropTcbInfoField?: string;
  /** Adds a `TDX_01` module identity with this MRSIGNER (hex, 48 bytes); levels ISVSVN 3 UpToDate, 2 OutOfDate. */
  moduleIdentityMrSigner?: string;
}

/** Everything a test needs to verify a synthetic quote. */
export interface TdxWorld {
  rootPem: string;
  pckChainPem: string;
  pckSerial: string;
  pckKey: KeyObject;
  collateral: TdxCollateral;
}

/** Mints a root, a PCK chain and signed collateral. */
export function mintTdxWorld(o: WorldOptions = {}): TdxWorld {
  const root = p256();
  const ca = p256();
  const pck = p256();
  const tcb = p256();
  const fmspc = '00906ed50000';
  const sgxSvns = o.sgxSvns ?? [5, 5, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0];
  const pceSvn = o.pceSvn ?? 11;
  const rootDer = buildCert({ subject: 'Test SGX Root CA', issuer: 'Test SGX Root CA', publicKey: root.publicKey, signingKey: root.privateKey, ca: true, notBefore: FROM, notAfter: TO, serial: '01' });
  const caDer = buildCert({ subject: 'Test SGX PCK Platform CA', issuer: 'Test SGX Root CA', publicKey: ca.publicKey, signingKey: root.privateKey, ca: true, notBefore: FROM, notAfter: TO, serial: '02' });
  const tcbComps = sgxSvns.map((v, i) => seq(oid(`${SGX}.2.${i + 1}`), int(v)));
  const sgxExt = seq(
    seq(oid(`${SGX}.1`), octets(Buffer.alloc(16, 7))),
    seq(oid(`${SGX}.2`), seq(...tcbComps, seq(oid(`${SGX}.2.17`), int(pceSvn)), seq(oid(`${SGX}.2.18`), octets(Buffer.from(sgxSvns))))),
    seq(oid(`${SGX}.3`), octets(Buffer.from('0000', 'hex'))),
    seq(oid(`${SGX}.4`), octets(Buffer.from(fmspc, 'hex'))),
    seq(oid(`${SGX}.5`), tlv(0x0a, Buffer.from([0]))),
  );
  const pckSerial = '3fa2c9e1';
  const pckDer = buildCert({ subject: 'Intel SGX PCK Certificate', issuer: 'Test SGX PCK Platform CA', publicKey: pck.publicKey, signingKey: ca.privateKey, ca: false, notBefore: FROM, notAfter: TO, serial: pckSerial, extensions: [{ oid: SGX, value: sgxExt }] });
  const tcbDer = buildCert({ subject: 'Intel SGX TCB Signing', issuer: 'Test SGX Root CA', publicKey: tcb.publicKey, signingKey: root.privateKey, ca: false, notBefore: FROM, notAfter: TO, serial: '04' });
  const rootPem = certPem(rootDer);
  const signerChain = certPem(tcbDer) + rootPem;

  const comps = (vals: number[]) => vals.map((svn) => ({ svn }));
  const tdx = comps([3, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const tcbInfo = {
    id: 'TDX', version: 3, issueDate: '2024-05-01T00:00:00Z', nextUpdate: '2024-07-01T00:00:00Z', fmspc: o.tcbInfoFmspc ?? fmspc, pceId: '0000', tcbType: 0, tcbEvaluationDataNumber: 16,
    tdxModule: { mrsigner: '0'.repeat(96), attributes: '0000000000000000', attributesMask: 'FFFFFFFFFFFFFFFF' },
    ...(o.moduleIdentityMrSigner === undefined
      ? {}
      : {
          tdxModuleIdentities: [
            {
              id: 'TDX_01', mrsigner: o.moduleIdentityMrSigner.toUpperCase(), attributes: '0000000000000000', attributesMask: 'FFFFFFFFFFFFFFFF',
              tcbLevels: [
                { tcb: { isvsvn: 3 }, tcbDate: '2024-02-15T00:00:00Z', tcbStatus: 'UpToDate' },
                { tcb: { isvsvn: 2 }, tcbDate: '2023-08-09T00:00:00Z', tcbStatus: 'OutOfDate' },
              ],
            },
          ],
        }),
    tcbLevels: [
      { tcb: { sgxtcbcomponents: comps([5, 5, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0]), pcesvn: 11, tdxtcbcomponents: tdx }, tcbDate: '2024-02-15T00:00:00Z', tcbStatus: o.topStatus ?? 'UpToDate' },
      { tcb: { sgxtcbcomponents: comps([5, 5, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0]), pcesvn: 5, tdxtcbcomponents: tdx }, tcbDate: '2018-01-04T00:00:00Z', tcbStatus: 'OutOfDate', advisoryIDs: ['INTEL-SA-00106'] },
    ],
  };
  const qeIdentity = {
    id: 'TD_QE', version: 2, issueDate: '2024-05-01T00:00:00Z', nextUpdate: '2024-07-01T00:00:00Z', tcbEvaluationDataNumber: 16,
    miscselect: '00000000', miscselectMask: 'FFFFFFFF', attributes: '11000000000000000000000000000000', attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
    mrsigner: (o.qeMrSigner ?? QE_MRSIGNER).toUpperCase(), isvprodid: 2,
    tcbLevels: [{ tcb: { isvsvn: 4 }, tcbDate: '2024-02-15T00:00:00Z', tcbStatus: 'UpToDate' }],
  };
  if (o.dropTcbInfoField !== undefined) delete (tcbInfo as Record<string, unknown>)[o.dropTcbInfoField];
  const signBody = (field: string, value: unknown) => {
    const raw = JSON.stringify(value);
    const sig = cryptoSign('sha256', Buffer.from(raw), { key: tcb.privateKey, dsaEncoding: 'ieee-p1363' }).toString('hex');
    return `{"${field}":${raw},"signature":"${sig}"}`;
  };
  return {
    rootPem,
    pckChainPem: certPem(pckDer) + certPem(caDer) + rootPem,
    pckSerial,
    pckKey: pck.privateKey,
    collateral: {
      tcbInfo: signBody('tcbInfo', tcbInfo),
      tcbInfoIssuerChain: signerChain,
      qeIdentity: signBody('enclaveIdentity', qeIdentity),
      qeIdentityIssuerChain: signerChain,
      pckCrl: buildCrl({ issuer: 'Test SGX PCK Platform CA', signingKey: ca.privateKey, thisUpdate: new Date('2024-05-01'), nextUpdate: new Date('2024-07-01'), serials: o.revokedPckSerials ?? [] }),
      rootCaCrl: buildCrl({ issuer: 'Test SGX Root CA', signingKey: root.privateKey, thisUpdate: new Date('2024-05-01'), nextUpdate: new Date('2025-05-01'), serials: o.revokedCaSerials ?? [] }),
    },
  };
}

/** Options of {@link mintTdxQuote}. */
export interface QuoteOptions {
  version?: 4 | 5;
  /** v5 only: 2 (TDX 1.0 body) or 3 (TDX 1.5 body). */
  bodyType?: 2 | 3;
  debug?: boolean;
  attestationKeyType?: number;
  reportData?: Buffer;
  teeTcbSvn?: Buffer;
}

/** A quote signed in `world`: fresh attestation key, QE report bound to it and signed by the PCK key. */
export function mintTdxQuote(world: TdxWorld, o: QuoteOptions = {}): Buffer {
  const version = o.version ?? 4;
  const header = Buffer.alloc(48);
  header.writeUInt16LE(version, 0);
  header.writeUInt16LE(o.attestationKeyType ?? 2, 2);
  header.writeUInt32LE(0x81, 4);
  Buffer.from('939a7233f79c4ca9940a0db3957f0607', 'hex').copy(header, 12);
  const td15 = version === 5 && o.bodyType === 3;
  const body = Buffer.alloc(td15 ? 648 : 584);
  (o.teeTcbSvn ?? Buffer.from([3, 0, 5])).copy(body, 0);
  Buffer.alloc(48, 0xaa).copy(body, 16); // MRSEAM
  body.writeUInt8(o.debug === true ? 0x01 : 0x00, 120); // TDATTRIBUTES byte 0
  body.writeUInt8(0x10, 123); // SEPT_VE_DISABLE, as a production TD sets
  Buffer.alloc(48, 0x11).copy(body, 136); // MRTD
  for (let i = 0; i < 4; i++) Buffer.alloc(48, 0x20 + i).copy(body, 328 + 48 * i);
  (o.reportData ?? Buffer.alloc(64, 0x5a)).copy(body, 520);
  if (td15) Buffer.alloc(48, 0x77).copy(body, 600); // MRSERVICETD
  const descriptor = version === 5 ? Buffer.alloc(6) : Buffer.alloc(0);
  if (version === 5) {
    descriptor.writeUInt16LE(o.bodyType ?? 2, 0);
    descriptor.writeUInt32LE(body.length, 2);
  }
  const signedRegion = Buffer.concat([header, descriptor, body]);
  const ak = p256();
  const jwk = ak.publicKey.export({ format: 'jwk' });
  const akRaw = Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const sig = cryptoSign('sha256', signedRegion, { key: ak.privateKey, dsaEncoding: 'ieee-p1363' });
  const authData = Buffer.alloc(32, 0x42);
  const qe = Buffer.alloc(384);
  qe.writeUInt8(0x11, 48); // attributes byte 0
  Buffer.from(QE_MRSIGNER, 'hex').copy(qe, 128);
  qe.writeUInt16LE(2, 256);
  qe.writeUInt16LE(4, 258);
  createHash('sha256').update(akRaw).update(authData).digest().copy(qe, 320);
  const qeSig = cryptoSign('sha256', qe, { key: world.pckKey, dsaEncoding: 'ieee-p1363' });
  const pem = Buffer.from(world.pckChainPem, 'latin1');
  const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
  const inner = Buffer.concat([u16(5), u32(pem.length), pem]);
  const certBody = Buffer.concat([qe, qeSig, u16(authData.length), authData, inner]);
  const sigData = Buffer.concat([sig, akRaw, u16(6), u32(certBody.length), certBody]);
  return Buffer.concat([signedRegion, u32(sigData.length), sigData]);
}
