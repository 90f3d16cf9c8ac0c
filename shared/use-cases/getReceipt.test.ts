/**
 * `GET /v1/receipts/{cid}` against the real in-process content store: a stored receipt comes back byte for byte;
 * content that is not a receipt, too large, or absent is refused with its code.
 */
import { describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import { LocalUnixfsContentStore } from '../adapters/ipfs/LocalUnixfsContentStore.js';
import { canonicalJson } from '../encoding/canonicalJson.js';
import { cidOfBytes } from '../encoding/unixfs.js';
import { PiiKind } from '../schemas/anonymizationReport.js';
import { MAX_RECEIPT_BYTES } from '../schemas/receipt.js';
import { codeOf } from '../../test/support/errors.js';
import { getReceipt } from './getReceipt.js';

const content = new LocalUnixfsContentStore({ memory: true });

async function receipt() {
  const worker = new Wallet(Wallet.createRandom().privateKey);
  const body = {
    schema: 'provena.receipt/v1',
    chainId: 31337,
    licenseManager: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    jobId: '1',
    licenseId: '1',
    datasets: [
      {
        datasetId: 'ds_0123456789abcdefghjkmnpqrs',
        chainDatasetId: '1',
        version: 1,
        manifestCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
        samples: 3,
        anonymization: { schema: 'provena.anonymization-report/v1', rowsIn: 3, rowsOut: 3, rowsSuppressed: 0, planRows: 3, kAnonymity: null, columns: { dropped: [], pseudonymized: [], scannedForPii: [] }, piiCounts: Object.fromEntries(PiiKind.options.map((k) => [k, 0])) },
        anonymizationReportHash: `0x${'ab'.repeat(32)}`,
      },
    ],
    recipeHash: `0x${'cd'.repeat(32)}`,
    model: { sha256: 'ef'.repeat(32), bytes: 10 },
    worker: { address: worker.address, mode: 'nitro', evidenceHash: `0x${'11'.repeat(32)}`, measurement: '' },
    dp: null,
    metrics: null,
    createdAt: '2026-11-28T08:00:00.000Z',
  };
  return { body, signature: await worker.signMessage(canonicalJson(body)) };
}

describe('getReceipt', () => {
  it('answers a stored receipt byte for byte (its CID recomputes from the answer)', async () => {
    const { cid } = await content.addJson(await receipt());

    const r = await getReceipt({ content }, { cid });

    expect(await cidOfBytes(Buffer.from(r.base64, 'base64'))).toBe(cid);
    expect(r.size).toBe(Buffer.from(r.base64, 'base64').length);
  });

  it('refuses content that is not a receipt, content above the bound, and an unknown CID', async () => {
    const notReceipt = await content.addJson({ schema: 'provena.dataset-manifest/v1' });
    const big = await content.add(new Uint8Array(MAX_RECEIPT_BYTES + 1).fill(0x20));
    const unknown = await cidOfBytes(new TextEncoder().encode('never stored'));

    expect({
      notReceipt: await codeOf(getReceipt({ content }, { cid: notReceipt.cid })),
      big: await codeOf(getReceipt({ content }, { cid: big.cid })),
      unknown: await codeOf(getReceipt({ content }, { cid: unknown })),
    }).toEqual({ notReceipt: 'RECEIPT_MALFORMED', big: 'RECEIPT_TOO_LARGE', unknown: 'CONTENT_NOT_FOUND' });
  });
});
