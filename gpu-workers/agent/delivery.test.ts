import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { SigningKey, Wallet } from 'ethers';
import { canonicalJson } from '../../shared/encoding/canonicalJson.js';
import { cidOfBytes } from '../../shared/encoding/unixfs.js';
import type { ReceiptBody } from '../../shared/schemas/job.js';
import { anonymizationReportHash, anonymizeTable } from './anonymizer/index.js';
import { openModel, receiptSigner, sealModel, signReceipt } from './delivery.js';

const lab = Wallet.createRandom();
const labPublic = SigningKey.computePublicKey(lab.signingKey.publicKey, true);

function body(): ReceiptBody {
  const { report } = anonymizeTable([{ email: 'a@b.co', x: 1 }], { identifierColumns: ['email'] }, randomBytes(32));
  return {
    schema: 'provena.receipt/v1',
    chainId: 31337,
    licenseManager: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    jobId: '3',
    licenseId: '1',
    datasets: [{ datasetId: 'ds_' + 'a'.repeat(26), chainDatasetId: '1', version: 1, manifestCid: 'bafy', samples: 30, anonymization: report, anonymizationReportHash: `0x${anonymizationReportHash(report)}` }],
    recipeHash: `0x${'ab'.repeat(32)}`,
    model: { sha256: 'cd'.repeat(32), bytes: 100 },
    worker: { address: Wallet.createRandom().address, mode: 'nitro', evidenceHash: `0x${'ef'.repeat(32)}`, measurement: '00'.repeat(48) },
    dp: null,
    metrics: { 'val.accuracy': 0.9 },
    createdAt: '2026-11-28T08:00:00.000Z',
  };
}

describe('model delivery', () => {
  it('seals a model that only the lab key opens, to the same bytes', async () => {
    const model = randomBytes(1_500_000);

    const sealed = await sealModel('3', model, labPublic);

    expect(sealed.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await openModel('3', sealed.object, sealed.sealedKey, lab.privateKey)).equals(model)).toBe(true);
    await expect(openModel('3', sealed.object, sealed.sealedKey, Wallet.createRandom().privateKey)).rejects.toMatchObject({ code: 'KEY_UNWRAP_FAILED' });
    await expect(openModel('4', sealed.object, sealed.sealedKey, lab.privateKey)).rejects.toMatchObject({ code: 'MANIFEST_MISMATCH' });
  });
});

describe('receipts', () => {
  it('are signed by the attested key over the canonical JSON, and the CID is of the signed receipt', async () => {
    const attested = Wallet.createRandom();

    const { receipt, cid } = await signReceipt(body(), attested);

    expect(receiptSigner(receipt)).toBe(attested.address);
    expect(cid).toBe(await cidOfBytes(Buffer.from(canonicalJson(receipt), 'utf8')));
  });

  it('no longer verify once a field changes', async () => {
    const attested = Wallet.createRandom();
    const { receipt } = await signReceipt(body(), attested);

    const altered = { ...receipt, body: { ...receipt.body, datasets: [{ ...receipt.body.datasets[0]!, samples: 31 }] } };

    expect(receiptSigner(altered)).not.toBe(attested.address);
  });
});
