/**
 * Receipt verification on Hardhat's in-process chain: a receipt signed by a fresh worker key, anchored by the real
 * `finalizeJob` and approved by the real AttestationRegistry, passes every check; each tampering (a flipped byte,
 * another signer, a CID the chain did not anchor, another chain's receipt, an unapproved key, another evidence
 * hash, a manifest the listing never published) fails its own check with its own code, and only that one where
 * the others still hold.
 */
import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Wallet, id } from 'ethers';
import { EVIDENCE, USD, buyLicense, deploySystem, registerExplicit, type System } from '../../contracts/test/helpers/fixture.js';
import { licenseManagerDomain, signFinalReport } from '../eip712.js';
import { canonicalJson } from '../encoding/canonicalJson.js';
import { cidOfBytes } from '../encoding/unixfs.js';
import { PiiKind } from '../schemas/anonymizationReport.js';
import type { ReceiptBody, SignedReceipt } from '../schemas/job.js';
import { receiptChainReader, verifyReceipt, type ReceiptChainReader } from './receipt.js';

const DATASET = 'ds_0123456789abcdefghjkmnpqrs';
const MANIFEST = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';
const PRICE = 7n;

let sys: System;
let base: string;
let chainDatasetId: bigint;
let reader: ReceiptChainReader;

beforeAll(async () => {
  sys = await deploySystem();
  const [owner] = sys.people;
  chainDatasetId = await registerExplicit(sys, owner!, PRICE, { recipients: [await owner!.getAddress()], bps: [10_000] });
  reader = receiptChainReader(sys.chain.provider, Number(sys.chain.chainId), { licenseManager: sys.manager.target as string, attestationRegistry: sys.attestations.target as string });
  base = await sys.chain.snapshot();
});

beforeEach(async () => {
  await sys.chain.revertTo(base);
  base = await sys.chain.snapshot();
});

/** A fresh worker key (a plain Wallet, as the agent holds). */
const freshKey = () => new Wallet(Wallet.createRandom().privateKey);

const published = async () => new Set([MANIFEST]);

/** Opens a job on a fresh license; the attestor approves `worker` on `evidence`. */
async function openJob(worker: string, evidence = EVIDENCE): Promise<{ jobId: bigint; licenseId: bigint }> {
  const lab = sys.labs[0]!;
  const licenseId = await buyLicense(sys, lab, [chainDatasetId], 100n * USD);
  const rc = await (await sys.manager.connect(lab).openJob(licenseId, 10n * USD, 10n ** 30n)).wait();
  const jobId = rc!.logs.map((l) => sys.manager.interface.parseLog(l)).find((p) => p?.name === 'JobOpened')!.args[0] as bigint;
  await (await sys.attestations.approveWorker(jobId, worker, evidence)).wait();
  return { jobId, licenseId };
}

function body(jobId: bigint, licenseId: bigint, worker: string, over: Partial<ReceiptBody> = {}): ReceiptBody {
  return {
    schema: 'provena.receipt/v1',
    chainId: Number(sys.chain.chainId),
    licenseManager: sys.manager.target as string,
    jobId: String(jobId),
    licenseId: String(licenseId),
    datasets: [
      {
        datasetId: DATASET,
        chainDatasetId: String(chainDatasetId),
        version: 1,
        manifestCid: MANIFEST,
        samples: 10,
        anonymization: { schema: 'provena.anonymization-report/v1', rowsIn: 10, rowsOut: 10, rowsSuppressed: 0, planRows: 10, kAnonymity: null, columns: { dropped: [], pseudonymized: [], scannedForPii: [] }, piiCounts: Object.fromEntries(PiiKind.options.map((k) => [k, 0])) as Record<PiiKind, number> },
        anonymizationReportHash: `0x${'ab'.repeat(32)}`,
      },
    ],
    recipeHash: `0x${'cd'.repeat(32)}`,
    model: { sha256: 'ef'.repeat(32), bytes: 1234 },
    worker: { address: worker, mode: 'confidential-gpu', evidenceHash: EVIDENCE, measurement: '00'.repeat(48) },
    dp: null,
    metrics: { loss: 0.25 },
    createdAt: '2026-11-28T08:00:00.000Z',
    ...over,
  };
}

async function signed(b: ReceiptBody, signer: Wallet): Promise<{ receipt: SignedReceipt; bytes: Uint8Array; cid: string }> {
  const receipt = { body: b, signature: await signer.signMessage(canonicalJson(b)) };
  const bytes = new TextEncoder().encode(canonicalJson(receipt));
  return { receipt, bytes, cid: await cidOfBytes(bytes) };
}

/** The worker's final report anchors `cid` for the job (the real `finalizeJob`). */
async function anchor(jobId: bigint, cid: string, worker: Wallet): Promise<void> {
  const report = { jobId, datasetIds: [chainDatasetId], samples: [10n], amounts: [10n * PRICE], receiptCid: cid };
  const signature = await signFinalReport(worker, licenseManagerDomain(sys.chain.chainId, sys.manager.target as string), report);
  await (await sys.manager.finalizeJob({ jobId, datasetIds: report.datasetIds, samples: report.samples, amounts: report.amounts }, cid, signature)).wait();
}

const failed = (v: Awaited<ReturnType<typeof verifyReceipt>>) => v.checks.filter((c) => !c.ok && !c.skipped).map((c) => c.code);

describe('verifyReceipt', () => {
  it('passes every check of a receipt its worker signed and the chain anchored', async () => {
    const worker = freshKey();
    const { jobId, licenseId } = await openJob(worker.address);
    const r = await signed(body(jobId, licenseId, worker.address), worker);
    await anchor(jobId, r.cid, worker);

    const v = await verifyReceipt({ cid: r.cid, bytes: r.bytes, chain: reader, publishedManifests: published });

    expect(v.checks.map((c) => [c.check, c.ok])).toEqual([
      ['cid', true], ['schema', true], ['signature', true], ['anchored', true], ['workerApproved', true], ['evidence', true], ['manifests', true],
    ]);
    expect(v.ok).toBe(true);
  });

  it('refuses a flipped byte (RECEIPT_CID_MISMATCH), another signer (RECEIPT_SIGNATURE_INVALID) and a CID the chain did not anchor (RECEIPT_NOT_ANCHORED)', async () => {
    const worker = freshKey();
    const { jobId, licenseId } = await openJob(worker.address);
    const good = await signed(body(jobId, licenseId, worker.address), worker);
    await anchor(jobId, good.cid, worker);
    const flipped = Uint8Array.from(good.bytes);
    const at = flipped.indexOf('5'.charCodeAt(0)); // inside "loss":0.25: still JSON, still a receipt
    flipped[at] = '6'.charCodeAt(0);
    const forged = await signed(body(jobId, licenseId, worker.address), freshKey());
    const other = await signed(body(jobId, licenseId, worker.address, { createdAt: '2026-11-28T09:00:00.000Z' }), worker);

    const vFlipped = await verifyReceipt({ cid: good.cid, bytes: flipped, chain: reader, publishedManifests: published });
    const vForged = await verifyReceipt({ cid: forged.cid, bytes: forged.bytes, chain: reader, publishedManifests: published });
    const vOther = await verifyReceipt({ cid: other.cid, bytes: other.bytes, chain: reader, publishedManifests: published });

    expect([vFlipped.code, failed(vFlipped)]).toEqual(['RECEIPT_CID_MISMATCH', ['RECEIPT_CID_MISMATCH', 'RECEIPT_SIGNATURE_INVALID']]);
    expect([vForged.code, failed(vForged)]).toEqual(['RECEIPT_SIGNATURE_INVALID', ['RECEIPT_SIGNATURE_INVALID', 'RECEIPT_NOT_ANCHORED']]);
    expect([vOther.code, failed(vOther)]).toEqual(['RECEIPT_NOT_ANCHORED', ['RECEIPT_NOT_ANCHORED']]);
  });

  it('refuses bytes that are not a receipt (RECEIPT_MALFORMED) and skips the checks that need one', async () => {
    const bytes = new TextEncoder().encode('{"body":{},"signature":"0x"}');
    const v = await verifyReceipt({ cid: await cidOfBytes(bytes), bytes, chain: reader, publishedManifests: published });

    expect(v.code).toBe('RECEIPT_MALFORMED');
    expect(v.checks.filter((c) => c.skipped).map((c) => c.check)).toEqual(['signature', 'anchored', 'workerApproved', 'evidence', 'manifests']);
  });

  it('refuses a worker key the registry never approved (RECEIPT_WORKER_NOT_APPROVED) and another evidence hash (RECEIPT_EVIDENCE_MISMATCH)', async () => {
    const worker = freshKey();
    const { jobId, licenseId } = await openJob(worker.address);
    const lying = await signed(body(jobId, licenseId, worker.address, { worker: { address: worker.address, mode: 'nitro', evidenceHash: id('other evidence'), measurement: '' } }), worker);
    await anchor(jobId, lying.cid, worker);
    const stranger = freshKey();
    const unapproved = await signed(body(jobId, licenseId, stranger.address), stranger);

    const vLying = await verifyReceipt({ cid: lying.cid, bytes: lying.bytes, chain: reader, publishedManifests: published });
    const vUnapproved = await verifyReceipt({ cid: unapproved.cid, bytes: unapproved.bytes, chain: reader, publishedManifests: published });

    expect([vLying.code, failed(vLying)]).toEqual(['RECEIPT_EVIDENCE_MISMATCH', ['RECEIPT_EVIDENCE_MISMATCH']]);
    expect([vUnapproved.code, failed(vUnapproved)]).toEqual(['RECEIPT_NOT_ANCHORED', ['RECEIPT_NOT_ANCHORED', 'RECEIPT_WORKER_NOT_APPROVED']]);
  });

  it("refuses a manifest the listing never published (RECEIPT_MANIFEST_UNKNOWN) and a receipt naming another chain's LicenseManager", async () => {
    const worker = freshKey();
    const { jobId, licenseId } = await openJob(worker.address);
    const r = await signed(body(jobId, licenseId, worker.address), worker);
    await anchor(jobId, r.cid, worker);
    const elsewhere = await signed(body(jobId, licenseId, worker.address, { chainId: 1 }), worker);

    const vManifest = await verifyReceipt({ cid: r.cid, bytes: r.bytes, chain: reader, publishedManifests: async () => new Set(['bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']) });
    const vElsewhere = await verifyReceipt({ cid: elsewhere.cid, bytes: elsewhere.bytes, chain: reader, publishedManifests: published });

    expect([vManifest.code, failed(vManifest)]).toEqual(['RECEIPT_MANIFEST_UNKNOWN', ['RECEIPT_MANIFEST_UNKNOWN']]);
    expect(vElsewhere.checks.find((c) => c.check === 'anchored')).toMatchObject({ ok: false, code: 'RECEIPT_NOT_ANCHORED', message: expect.stringContaining('on chain 1') });
  });
});
