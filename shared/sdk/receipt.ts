/**
 * Verifying a job's receipt the way a lab (or anyone) can, trusting neither the API nor the worker: the bytes
 * hash to the CID, the attested worker key signed them, the chain anchored that CID for the job, the attestation
 * registry approved that key for the job on the evidence the receipt names, and every manifest it trained on is one
 * the listing published. Each check answers its own verdict and code.
 */
import { ZeroHash, getAddress, hashMessage, keccak256, toUtf8Bytes, type Provider } from 'ethers';
import { AttestationRegistry__factory, LicenseManager__factory } from '../../contracts/typechain/index.js';
import { recoverStrict } from '../crypto/signatures.js';
import { canonicalJson, parseCid } from '../encoding/canonicalJson.js';
import { cidOfBytes } from '../encoding/unixfs.js';
import type { ErrorCode } from '../errors.js';
import { SignedReceipt } from '../schemas/job.js';
import type { ReceiptCheck, ReceiptCheckName } from '../schemas/receipt.js';
import type { ProvenaClient } from './client.js';

/** The chain reads a verification needs (adapter: {@link receiptChainReader}). */
export interface ReceiptChainReader {
  chainId: number;
  /** The LicenseManager the reads go to: a receipt naming another is refused as not anchored here. */
  licenseManager: string;
  /** `LicenseManager.receiptOf(jobId)`: keccak256 of the anchored CID, zero before finalization. */
  receiptOf(jobId: bigint): Promise<string>;
  /** `AttestationRegistry.evidenceOf(jobId, worker)`: zero when the key is not approved for the job. */
  evidenceOf(jobId: bigint, worker: string): Promise<string>;
}

/** Reads `receiptOf` and `evidenceOf` through any ethers provider (a browser wallet's included). */
export function receiptChainReader(provider: Provider, chainId: number, contracts: { licenseManager: string; attestationRegistry: string }): ReceiptChainReader {
  const manager = LicenseManager__factory.connect(contracts.licenseManager, provider);
  const registry = AttestationRegistry__factory.connect(contracts.attestationRegistry, provider);
  return {
    chainId,
    licenseManager: getAddress(contracts.licenseManager),
    receiptOf: (jobId) => manager.receiptOf(jobId),
    evidenceOf: (jobId, worker) => registry.evidenceOf(jobId, worker),
  };
}

export interface VerifyReceiptParameters {
  /** The CID the caller was given (from the chain's `JobFinalized` event, the job, or a colleague). */
  cid: string;
  /** The bytes fetched for it (e.g. `GET /v1/receipts/{cid}`); never trusted for the CID. */
  bytes: Uint8Array;
  chain: ReceiptChainReader;
  /** Every manifest CID the listing `datasetId` published (listing and encrypted-data manifests, all versions known). */
  publishedManifests(dataset: { datasetId: string; chainDatasetId: string }): Promise<ReadonlySet<string>>;
}

export interface VerifyReceiptReturnType {
  cid: string;
  /** True when every check passed. */
  ok: boolean;
  /** The code of the first failed check. */
  code?: ErrorCode;
  checks: ReceiptCheck[];
  receipt?: SignedReceipt;
}
export type VerifyReceiptErrorType = never;

const CODES: Record<ReceiptCheckName, ErrorCode> = {
  cid: 'RECEIPT_CID_MISMATCH',
  schema: 'RECEIPT_MALFORMED',
  signature: 'RECEIPT_SIGNATURE_INVALID',
  anchored: 'RECEIPT_NOT_ANCHORED',
  workerApproved: 'RECEIPT_WORKER_NOT_APPROVED',
  evidence: 'RECEIPT_EVIDENCE_MISMATCH',
  manifests: 'RECEIPT_MANIFEST_UNKNOWN',
};

const ORDER: readonly ReceiptCheckName[] = ['cid', 'schema', 'signature', 'anchored', 'workerApproved', 'evidence', 'manifests'];

const pass = (check: ReceiptCheckName, message: string): ReceiptCheck => ({ check, ok: true, message });
const fail = (check: ReceiptCheckName, message: string): ReceiptCheck => ({ check, ok: false, code: CODES[check], message });

function sameCid(a: string, b: string): boolean {
  try {
    return parseCid(a).equals(parseCid(b));
  } catch {
    return false;
  }
}

/** The EIP-191 signer check: strict (65 bytes, low s) over `canonicalJson(body)`. */
export function receiptSigner(receipt: SignedReceipt): string | undefined {
  const r = recoverStrict(hashMessage(canonicalJson(receipt.body)), receipt.signature);
  return r.ok ? r.address : undefined;
}

async function chainChecks(receipt: SignedReceipt, cid: string, chain: ReceiptChainReader): Promise<ReceiptCheck[]> {
  const { body } = receipt;
  const jobId = BigInt(body.jobId);
  const out: ReceiptCheck[] = [];
  if (body.chainId !== chain.chainId || getAddress(body.licenseManager) !== chain.licenseManager) {
    out.push(fail('anchored', `the receipt names LicenseManager ${body.licenseManager} on chain ${body.chainId}, not ${chain.licenseManager} on chain ${chain.chainId}`));
  } else {
    const anchored = await chain.receiptOf(jobId);
    const expected = keccak256(toUtf8Bytes(cid));
    out.push(
      anchored.toLowerCase() === expected
        ? pass('anchored', `receiptOf(${jobId}) = keccak256("${cid}")`)
        : anchored === ZeroHash
          ? fail('anchored', `job ${jobId} has no receipt anchored on chain`)
          : fail('anchored', `job ${jobId} anchored another receipt (receiptOf = ${anchored}, this CID hashes to ${expected})`),
    );
  }
  const evidence = await chain.evidenceOf(jobId, body.worker.address);
  out.push(evidence === ZeroHash ? fail('workerApproved', `the AttestationRegistry has no approval of ${body.worker.address} for job ${jobId}`) : pass('workerApproved', `${body.worker.address} is approved for job ${jobId}`));
  out.push(
    evidence === ZeroHash
      ? { check: 'evidence', ok: false, skipped: true, message: 'not checked: the worker is not approved' }
      : evidence.toLowerCase() === body.worker.evidenceHash.toLowerCase()
        ? pass('evidence', `evidenceOf = ${evidence}`)
        : fail('evidence', `the approval was on evidence ${evidence}, the receipt names ${body.worker.evidenceHash}`),
  );
  return out;
}

async function manifestCheck(receipt: SignedReceipt, published: VerifyReceiptParameters['publishedManifests']): Promise<ReceiptCheck> {
  const unknown: string[] = [];
  for (const d of receipt.body.datasets) {
    const set = await published({ datasetId: d.datasetId, chainDatasetId: d.chainDatasetId });
    if (![...set].some((c) => sameCid(c, d.manifestCid))) unknown.push(`${d.datasetId} v${d.version}: ${d.manifestCid}`);
  }
  return unknown.length ? fail('manifests', `not published by the listing: ${unknown.join('; ')}`) : pass('manifests', `${receipt.body.datasets.length} manifest(s) published by their listings`);
}

/**
 * Runs every check of a receipt and reports each. Never throws for a bad receipt: a failure is a verdict
 * (`ok: false` with its code); checks that depend on a failed one are reported `skipped`. Chain or API errors
 * propagate (no verdict could be reached).
 *
 * @example
 * ```ts
 * const v = await verifyReceipt({ cid, bytes, chain: receiptChainReader(provider, chainId, contracts), publishedManifests });
 * if (!v.ok) console.error(v.code, v.checks.filter((c) => !c.ok));
 * ```
 */
export async function verifyReceipt(p: VerifyReceiptParameters): Promise<VerifyReceiptReturnType> {
  const checks: ReceiptCheck[] = [];
  const actual = await cidOfBytes(p.bytes);
  checks.push(sameCid(actual, p.cid) ? pass('cid', `the bytes hash to ${p.cid}`) : fail('cid', `the bytes hash to ${actual}, not ${p.cid}`));
  let receipt: SignedReceipt | undefined;
  try {
    const r = SignedReceipt.safeParse(JSON.parse(new TextDecoder().decode(p.bytes)));
    if (r.success) receipt = r.data;
    checks.push(r.success ? pass('schema', 'a provena.receipt/v1 signed receipt') : fail('schema', `not a signed receipt: ${r.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`));
  } catch {
    checks.push(fail('schema', 'not JSON'));
  }
  if (receipt) {
    const signer = receiptSigner(receipt);
    checks.push(
      signer !== undefined && signer === getAddress(receipt.body.worker.address)
        ? pass('signature', `signed by the worker key ${signer}`)
        : fail('signature', signer === undefined ? 'the signature is malformed' : `signed by ${signer}, not by the worker key ${receipt.body.worker.address}`),
    );
    checks.push(...(await chainChecks(receipt, p.cid, p.chain)), await manifestCheck(receipt, p.publishedManifests));
  }
  for (const name of ORDER) if (!checks.some((c) => c.check === name)) checks.push({ check: name, ok: false, skipped: true, message: 'not checked: the receipt could not be read' });
  checks.sort((a, b) => ORDER.indexOf(a.check) - ORDER.indexOf(b.check));
  const failed = checks.find((c) => !c.ok && !c.skipped);
  return { cid: p.cid, ok: !failed, ...(failed?.code ? { code: failed.code as ErrorCode } : {}), checks, ...(receipt ? { receipt } : {}) };
}

/**
 * The manifests a listing published, as the API reports it now: its listing manifest (current version), the one
 * the registry records, and its encrypted-data manifest. A receipt of an older version is recognized only while
 * one of these still names it (the listing manifest's `previous` chain is not walked yet).
 */
export function publishedManifestsFromApi(client: ProvenaClient): VerifyReceiptParameters['publishedManifests'] {
  return async ({ datasetId }) => {
    const d = await client.getDataset(datasetId);
    return new Set([d.manifestCid, d.chainManifestCid, d.data?.manifestCid].filter((c): c is string => c !== undefined));
  };
}
