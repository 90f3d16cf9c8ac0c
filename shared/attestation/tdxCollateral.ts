/**
 * Intel PCS collateral for TDX: TCB info and QE identity responses, their signatures, and the rules that turn a
 * platform's SVNs into a TCB status (Intel's "Quote Verification Library" TCB level matching).
 */
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import * as z from 'zod';
import { ProvenaError } from '../errors.js';
import { parsePemChain, verifyCertChain } from './tdxX509.js';

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${n}}$`));
const svn = z.object({ svn: z.number().int().min(0).max(255) });

/** Intel PCS TCB info (v3, id "TDX"), the fields verification reads. */
export const TdxTcbInfoSchema = z.object({
  id: z.literal('TDX'),
  version: z.literal(3),
  issueDate: z.iso.datetime(),
  nextUpdate: z.iso.datetime(),
  fmspc: hex(12),
  pceId: hex(4),
  tcbEvaluationDataNumber: z.number().int(),
  tdxModule: z.object({ mrsigner: hex(96), attributes: hex(16), attributesMask: hex(16) }),
  /** TDX 1.5+: one identity per TDX module major version (`TDX_01`…), each with its own ISVSVN levels. */
  tdxModuleIdentities: z
    .array(
      z.object({
        id: z.string(),
        mrsigner: hex(96),
        attributes: hex(16),
        attributesMask: hex(16),
        tcbLevels: z.array(z.object({ tcb: z.object({ isvsvn: z.number().int().min(0) }), tcbDate: z.iso.datetime(), tcbStatus: z.string() })).min(1),
      }),
    )
    .optional(),
  tcbLevels: z
    .array(
      z.object({
        tcb: z.object({
          sgxtcbcomponents: z.array(svn).length(16),
          pcesvn: z.number().int().min(0),
          tdxtcbcomponents: z.array(svn).length(16),
        }),
        tcbDate: z.iso.datetime(),
        tcbStatus: z.string(),
        advisoryIDs: z.array(z.string()).optional(),
      }),
    )
    .min(1),
});
/** Parsed TCB info. */
export type TdxTcbInfo = z.infer<typeof TdxTcbInfoSchema>;

/** Intel PCS QE identity (v2, id "TD_QE"), the fields verification reads. */
export const TdxQeIdentitySchema = z.object({
  id: z.literal('TD_QE'),
  version: z.literal(2),
  issueDate: z.iso.datetime(),
  nextUpdate: z.iso.datetime(),
  tcbEvaluationDataNumber: z.number().int(),
  miscselect: hex(8),
  miscselectMask: hex(8),
  attributes: hex(32),
  attributesMask: hex(32),
  mrsigner: hex(64),
  isvprodid: z.number().int(),
  tcbLevels: z
    .array(z.object({ tcb: z.object({ isvsvn: z.number().int().min(0) }), tcbDate: z.iso.datetime(), tcbStatus: z.string() }))
    .min(1),
});
/** Parsed QE identity. */
export type TdxQeIdentity = z.infer<typeof TdxQeIdentitySchema>;

/**
 * Returns the exact bytes of a top-level field's value in a JSON text. Intel signs the `tcbInfo` /
 * `enclaveIdentity` value as it appears in the response, so re-serializing the parsed object would not do.
 */
export function rawJsonField(text: string, field: string): string {
  let depth = 0;
  let i = 0;
  const n = text.length;
  const skipString = (start: number): number => {
    let j = start + 1;
    while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    return j + 1;
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      const end = skipString(i);
      if (depth === 1 && text.slice(i + 1, end - 1) === field) {
        let j = end;
        while (j < n && /\s/.test(text[j]!)) j++;
        if (text[j] === ':') {
          j++;
          while (j < n && /\s/.test(text[j]!)) j++;
          const start = j;
          let d = 0;
          while (j < n) {
            const cj = text[j]!;
            if (cj === '"') {
              j = skipString(j);
              if (d === 0) break;
              continue;
            }
            if (cj === '{' || cj === '[') d++;
            else if (cj === '}' || cj === ']') {
              if (d === 0) break;
              d--;
              if (d === 0) {
                j++;
                break;
              }
            } else if (cj === ',' && d === 0) break;
            j++;
          }
          return text.slice(start, j).trimEnd();
        }
      }
      i = end;
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    i++;
  }
  throw new ProvenaError('ATTESTATION_COLLATERAL_INVALID', `The collateral has no top-level "${field}"`);
}

/** A collateral body whose signature verified under a chain to a pinned root. */
export interface SignedCollateral<T> {
  value: T;
  signer: X509Certificate;
  /** The pinned root the signer chained to (for the root CA CRL check). */
  root: X509Certificate;
}

/**
 * Verifies an Intel PCS response `{"<field>": {...}, "signature": "<r||s hex>"}`: the signer chain (PEM, leaf
 * first, as in the `*-Issuer-Chain` header) up to a pinned root, the signer's name, then ECDSA P-256/SHA-256 over
 * the raw bytes of `field`, then the schema and the issueDate/nextUpdate window around `now`.
 */
export function verifySignedCollateral<T>(
  body: string,
  field: 'tcbInfo' | 'enclaveIdentity',
  issuerChainPem: string,
  schema: z.ZodType<T>,
  opts: { roots: readonly X509Certificate[]; now: Date },
): SignedCollateral<T> {
  const label = field === 'tcbInfo' ? 'TCB info' : 'QE identity';
  const chain = verifyCertChain(parsePemChain(issuerChainPem), { roots: opts.roots, now: opts.now, label: `${label} signing chain` });
  const signer = chain.certs[0]!;
  if (!/(^|\n)CN=Intel SGX TCB Signing(\n|$)/.test(signer.subject)) {
    throw new ProvenaError('ATTESTATION_COLLATERAL_INVALID', `The ${label} is signed by "${signer.subject}", not by Intel SGX TCB Signing`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    throw new ProvenaError('ATTESTATION_COLLATERAL_INVALID', `The ${label} is not JSON`, { cause });
  }
  const sigHex = (parsed as { signature?: unknown }).signature;
  if (typeof sigHex !== 'string' || !/^[0-9a-fA-F]{128}$/.test(sigHex)) {
    throw new ProvenaError('ATTESTATION_COLLATERAL_INVALID', `The ${label} has no 64-byte signature`);
  }
  const raw = Buffer.from(rawJsonField(body, field), 'utf8');
  const ok = cryptoVerify('sha256', raw, { key: signer.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(sigHex, 'hex'));
  if (!ok) throw new ProvenaError('ATTESTATION_COLLATERAL_INVALID', `The ${label} signature does not verify`);
  const r = schema.safeParse((parsed as Record<string, unknown>)[field]);
  if (!r.success) throw new ProvenaError('ATTESTATION_COLLATERAL_INVALID', `The ${label} does not match its schema`, { details: { issues: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) } });
  const value = r.data as T & { issueDate: string; nextUpdate: string };
  if (opts.now < new Date(value.issueDate) || opts.now > new Date(value.nextUpdate)) {
    throw new ProvenaError('ATTESTATION_COLLATERAL_EXPIRED', `The ${label} is not current at ${opts.now.toISOString()} (issued ${value.issueDate}, next update ${value.nextUpdate})`);
  }
  return { value, signer, root: chain.root };
}

/** The TCB level a platform matched. */
export interface TdxTcbMatch {
  tcbStatus: string;
  tcbDate: string;
  advisoryIds: string[];
}

/**
 * Intel's TCB level matching for TDX (QVL `TcbLevelCheck`): walk the levels (newest first); once a level's 16 SGX
 * component SVNs and PCE SVN are all <= the PCK certificate's, that SGX match holds for the levels after it; the
 * result is the first such level whose 16 TDX component SVNs are all <= the quote's TEE_TCB_SVN. A Revoked SGX
 * match ends the walk as Revoked. Returns undefined when no level matches (below every known level).
 */
export function matchTdxTcbLevel(info: TdxTcbInfo, pck: { cpuSvnComponents: number[]; pceSvn: number }, teeTcbSvn: Uint8Array): TdxTcbMatch | undefined {
  let sgxFound = false;
  for (const level of info.tcbLevels) {
    if (!sgxFound) {
      sgxFound = level.tcb.sgxtcbcomponents.every((c, i) => (pck.cpuSvnComponents[i] ?? 0) >= c.svn) && pck.pceSvn >= level.tcb.pcesvn;
      if (sgxFound && level.tcbStatus === 'Revoked') return { tcbStatus: 'Revoked', tcbDate: level.tcbDate, advisoryIds: level.advisoryIDs ?? [] };
    }
    if (!sgxFound) continue;
    if (level.tcb.tdxtcbcomponents.every((c, i) => (teeTcbSvn[i] ?? 0) >= c.svn)) {
      return { tcbStatus: level.tcbStatus, tcbDate: level.tcbDate, advisoryIds: level.advisoryIDs ?? [] };
    }
  }
  return undefined;
}

/** What the TCB info expects of the TDX module that produced the quote. */
export interface TdxModuleExpectation {
  mrsigner: string;
  attributes: string;
  attributesMask: string;
  /** The module identity's own TCB status (TDX 1.5+), undefined for module major version 0. */
  tcbStatus: string | undefined;
}

/**
 * Intel's `TdxModuleCheck`: TEE_TCB_SVN[1] is the TDX module's major version and TEE_TCB_SVN[0] its ISVSVN.
 * Version 0 is checked against `tdxModule`; a later version against the `tdxModuleIdentities` entry `TDX_<vv>`,
 * whose first level with ISVSVN <= the module's gives the module's status. Undefined when no identity or level
 * matches.
 */
export function expectedTdxModule(info: TdxTcbInfo, teeTcbSvn: Uint8Array): TdxModuleExpectation | undefined {
  const isvSvn = teeTcbSvn[0] ?? 0;
  const version = teeTcbSvn[1] ?? 0;
  if (version === 0) return { ...info.tdxModule, tcbStatus: undefined };
  const id = `TDX_${version.toString(16).padStart(2, '0')}`.toUpperCase();
  const identity = info.tdxModuleIdentities?.find((m) => m.id.toUpperCase() === id);
  const level = identity?.tcbLevels.find((l) => isvSvn >= l.tcb.isvsvn);
  if (identity === undefined || level === undefined) return undefined;
  return { mrsigner: identity.mrsigner, attributes: identity.attributes, attributesMask: identity.attributesMask, tcbStatus: level.tcbStatus };
}

/** The QE identity level a QE report matched: the first level whose ISVSVN is <= the report's. */
export function matchQeTcbLevel(identity: TdxQeIdentity, isvSvn: number): { tcbStatus: string; tcbDate: string } | undefined {
  const level = identity.tcbLevels.find((l) => isvSvn >= l.tcb.isvsvn);
  return level === undefined ? undefined : { tcbStatus: level.tcbStatus, tcbDate: level.tcbDate };
}
