/**
 * The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1): FMSPC, PCE-ID and the platform's TCB
 * SVNs, which select the TCB level in the collateral. The structure is a SEQUENCE of (OID, value) pairs.
 */
import { type X509Certificate } from 'node:crypto';
import { ProvenaError } from '../errors.js';
import { certExtension, decodeOid, decodeUint, readDer, type Der } from './tdxDer.js';

/** OID of Intel's SGX extension in PCK certificates. */
export const SGX_EXTENSION_OID = '1.2.840.113741.1.13.1';

/** What the PCK certificate says about the platform. */
export interface PckPlatform {
  /** 6 bytes, lowercase hex. */
  fmspc: string;
  /** 2 bytes, lowercase hex. */
  pceId: string;
  /** SGX TCB component SVNs 1..16. */
  cpuSvnComponents: number[];
  pceSvn: number;
}

/**
 * Reads FMSPC, PCE-ID, the 16 SGX TCB component SVNs and the PCE SVN from a PCK certificate. Throws
 * ATTESTATION_MALFORMED when the extension is missing or not as Intel's PCK certificate profile describes.
 */
export function readPckPlatform(pck: X509Certificate): PckPlatform {
  const ext = certExtension(pck, SGX_EXTENSION_OID);
  if (ext === undefined) throw new ProvenaError('ATTESTATION_MALFORMED', 'The PCK certificate has no SGX extension');
  try {
    const [outer] = readDer(ext);
    if (outer?.tag !== 0x30) throw new Error('not a SEQUENCE');
    const fields = new Map<string, Der>();
    for (const pair of readDer(outer.value)) {
      const [oid, value] = readDer(pair.value);
      if (oid?.tag === 0x06 && value !== undefined) fields.set(decodeOid(oid.value), value);
    }
    const tcb = fields.get(`${SGX_EXTENSION_OID}.2`);
    const pceId = fields.get(`${SGX_EXTENSION_OID}.3`);
    const fmspc = fields.get(`${SGX_EXTENSION_OID}.4`);
    if (tcb?.tag !== 0x30 || pceId?.tag !== 0x04 || fmspc?.tag !== 0x04) throw new Error('missing TCB, PCE-ID or FMSPC');
    const comps = new Map<string, Der>();
    for (const pair of readDer(tcb.value)) {
      const [oid, value] = readDer(pair.value);
      if (oid?.tag === 0x06 && value !== undefined) comps.set(decodeOid(oid.value), value);
    }
    const cpuSvnComponents: number[] = [];
    for (let k = 1; k <= 16; k++) {
      const v = comps.get(`${SGX_EXTENSION_OID}.2.${k}`);
      if (v?.tag !== 0x02) throw new Error(`missing SGX TCB component ${k}`);
      cpuSvnComponents.push(decodeUint(v.value));
    }
    const pceSvn = comps.get(`${SGX_EXTENSION_OID}.2.17`);
    if (pceSvn?.tag !== 0x02) throw new Error('missing PCE SVN');
    return { fmspc: fmspc.value.toString('hex'), pceId: pceId.value.toString('hex'), cpuSvnComponents, pceSvn: decodeUint(pceSvn.value) };
  } catch (cause) {
    if (cause instanceof ProvenaError) throw cause;
    throw new ProvenaError('ATTESTATION_MALFORMED', `The PCK certificate's SGX extension does not parse: ${(cause as Error).message}`, { cause });
  }
}
