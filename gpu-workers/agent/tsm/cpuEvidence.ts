/**
 * From a configfs-tsm report to the documents the API's verifiers take (shared/attestation/tdx.ts `TDX_DOCUMENTS`,
 * snp.ts `{report, vcek, chain}`), with the measurement the receipt records.
 *
 * - TDX: the quote carries its PCK chain; the verifier also needs Intel PCS collateral for the quote's FMSPC (TCB
 *   info and QE identity with their issuer chains, the PCK CRL, the root CA CRL), which the worker fetches from
 *   Intel PCS or a caching service speaking the same v4 API (`PROVENA_TSM_PCS_URL`: a cloud's PCCS).
 * - SEV-SNP: `auxblob` is the host's certificate table (GUID, offset, length entries, zero-terminated; SEV-SNP
 *   firmware ABI / GHCB spec): VCEK, ASK and ARK by GUID. A host that supplies no table (or a VLEK instead of a
 *   VCEK) is refused with `WORKER_TSM_COLLATERAL_UNAVAILABLE`: fetching them from AMD KDS is not built.
 */
import { X509Certificate } from 'node:crypto';
import { ProvenaError } from '../../../shared/errors.js';
import { parseSnpReport, SNP_REPORT_SIZE } from '../../../shared/attestation/snp.js';
import { readPckPlatform } from '../../../shared/attestation/tdxPck.js';
import { parseTdxQuote } from '../../../shared/attestation/tdxQuote.js';
import type { TsmReport } from './configfsTsm.js';

/** CPU evidence: bundle kind, documents (base64) and measurement (hex). */
export interface CpuEvidence {
  kind: 'tdx' | 'sev-snp';
  documents: Record<string, string>;
  measurement: string;
  /** The 64 bytes the report signs as REPORTDATA / REPORT_DATA. */
  reportData: Buffer;
}

/** Where TDX collateral comes from. */
export interface TdxCollateralSource {
  /** Base URL of Intel PCS or a PCCS (default https://api.trustedservices.intel.com). */
  pcsUrl?: string;
  /** The Intel SGX Root CA CRL (default https://certificates.trustedservices.intel.com/IntelSGXRootCA.der). */
  rootCrlUrl?: string;
  fetch?: typeof fetch;
}

/** Certificate table GUIDs (SEV-SNP firmware ABI). */
export const SNP_CERT_GUIDS = {
  vcek: '63da758d-e664-4564-adc5-f4b93be8accd',
  vlek: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  ask: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  ark: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
} as const;

const b64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64');
const invalid = (why: string): ProvenaError => new ProvenaError('WORKER_TSM_REPORT_INVALID', why);

/** A GUID's 16 bytes in RFC 4122 order and in the little-endian (Microsoft/Linux guid_t) order. */
function guidForms(guid: string): [string, string] {
  const h = guid.replace(/-/g, '');
  const le = Buffer.from(h, 'hex');
  le.subarray(0, 4).reverse();
  le.subarray(4, 6).reverse();
  le.subarray(6, 8).reverse();
  return [h, le.toString('hex')];
}

/** Parses an SEV-SNP certificate table into DER certificates by GUID (lowercase, dashed RFC form). */
export function parseSnpCertTable(table: Uint8Array): Map<string, Buffer> {
  const b = Buffer.from(table);
  const byHex = new Map<string, string>();
  for (const g of Object.values(SNP_CERT_GUIDS)) for (const f of guidForms(g)) byHex.set(f, g);
  const out = new Map<string, Buffer>();
  for (let p = 0; ; p += 24) {
    if (p + 24 > b.length) throw invalid('SEV-SNP certificate table: no terminating entry');
    const guid = b.subarray(p, p + 16);
    const offset = b.readUInt32LE(p + 16);
    const length = b.readUInt32LE(p + 20);
    if (guid.every((x) => x === 0) && offset === 0 && length === 0) break;
    if (offset + length > b.length || length === 0) throw invalid('SEV-SNP certificate table: an entry points outside the table');
    const name = byHex.get(guid.toString('hex'));
    if (name !== undefined) out.set(name, b.subarray(offset, offset + length));
  }
  return out;
}

function pem(der: Buffer): string {
  return new X509Certificate(der).toString();
}

/** SEV-SNP: report (exactly {@link SNP_REPORT_SIZE} bytes) + VCEK + ASK/ARK from the certificate table. */
export function snpEvidence(report: Buffer, auxblob: Buffer | undefined): CpuEvidence {
  if (report.length !== SNP_REPORT_SIZE) throw invalid(`an SEV-SNP outblob must be ${SNP_REPORT_SIZE} bytes (got ${report.length})`);
  let parsed;
  try {
    parsed = parseSnpReport(report);
  } catch (e) {
    throw invalid(`the SEV-SNP report does not parse: ${(e as Error).message}`);
  }
  if (auxblob === undefined) throw new ProvenaError('WORKER_TSM_COLLATERAL_UNAVAILABLE', 'the host supplied no SEV-SNP certificate table (auxblob); fetching VCEK/ASK/ARK from AMD KDS is not built');
  const certs = parseSnpCertTable(auxblob);
  const vcek = certs.get(SNP_CERT_GUIDS.vcek);
  const ask = certs.get(SNP_CERT_GUIDS.ask);
  const ark = certs.get(SNP_CERT_GUIDS.ark);
  if (vcek === undefined || ask === undefined || ark === undefined) {
    const has = [...certs.keys()].map((g) => Object.entries(SNP_CERT_GUIDS).find(([, v]) => v === g)?.[0]).join(', ');
    throw new ProvenaError('WORKER_TSM_COLLATERAL_UNAVAILABLE', `the SEV-SNP certificate table lacks VCEK, ASK or ARK (has: ${has || 'none'}); a VLEK-signed report is not supported`);
  }
  return {
    kind: 'sev-snp',
    documents: { report: b64(report), vcek: b64(vcek), chain: b64(pem(ask) + pem(ark)) },
    measurement: parsed.measurement.toString('hex'),
    reportData: Buffer.from(parsed.reportData),
  };
}

async function get(f: typeof fetch, url: string, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await f(url);
  } catch (e) {
    throw new ProvenaError('WORKER_TSM_COLLATERAL_UNAVAILABLE', `cannot fetch the ${what} from ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new ProvenaError('WORKER_TSM_COLLATERAL_UNAVAILABLE', `the ${what} at ${url} answered ${res.status}`);
  return res;
}

function issuerChain(res: Response, header: string, what: string): string {
  const v = res.headers.get(header);
  if (v === null) throw new ProvenaError('WORKER_TSM_COLLATERAL_UNAVAILABLE', `the ${what} response has no ${header} header`);
  return decodeURIComponent(v);
}

/** TDX: the quote + Intel PCS v4 collateral for its FMSPC (from the PCK certificate the quote carries). */
export async function tdxEvidence(quote: Buffer, source: TdxCollateralSource = {}): Promise<CpuEvidence> {
  let parsed;
  let fmspc: string;
  let ca: 'platform' | 'processor';
  try {
    parsed = parseTdxQuote(quote);
    const pck = new X509Certificate(parsed.pckChainPem);
    fmspc = readPckPlatform(pck).fmspc;
    ca = /Processor/i.test(pck.issuer) ? 'processor' : 'platform';
  } catch (e) {
    throw invalid(`the TDX quote does not parse: ${(e as Error).message}`);
  }
  const f = source.fetch ?? fetch;
  const pcs = (source.pcsUrl ?? 'https://api.trustedservices.intel.com').replace(/\/+$/, '');
  const tcb = await get(f, `${pcs}/tdx/certification/v4/tcb?fmspc=${fmspc}`, 'TDX TCB info');
  const qe = await get(f, `${pcs}/tdx/certification/v4/qe/identity`, 'TDX QE identity');
  const crl = await get(f, `${pcs}/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`, 'PCK CRL');
  const rootCrl = await get(f, source.rootCrlUrl ?? 'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der', 'Intel SGX Root CA CRL');
  const documents = {
    quote: b64(quote),
    tcbInfo: b64(await tcb.text()),
    tcbInfoIssuerChain: b64(issuerChain(tcb, 'TCB-Info-Issuer-Chain', 'TDX TCB info')),
    qeIdentity: b64(await qe.text()),
    qeIdentityIssuerChain: b64(issuerChain(qe, 'SGX-Enclave-Identity-Issuer-Chain', 'TDX QE identity')),
    pckCrl: b64(Buffer.from(await crl.arrayBuffer())),
    rootCaCrl: b64(Buffer.from(await rootCrl.arrayBuffer())),
  };
  return { kind: 'tdx', documents, measurement: parsed.body.mrTd.toString('hex'), reportData: Buffer.from(parsed.body.reportData) };
}

/** The CPU evidence for a configfs-tsm report, by provider. */
export function cpuEvidence(report: TsmReport, source: TdxCollateralSource = {}): Promise<CpuEvidence> {
  return report.provider === 'tdx_guest' ? tdxEvidence(report.outblob, source) : Promise.resolve().then(() => snpEvidence(report.outblob, report.auxblob));
}
