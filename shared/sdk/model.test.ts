/**
 * Taking delivery of a model, with the project's real crypto: a model encrypted as a job artifact under a fresh
 * data key, the key sealed (ECIES) to the lab's model key. The lab's key opens it and the hashes match; every
 * tampering is refused with its own code and nothing is written: another key, a flipped ciphertext byte, another
 * job's or a checkpoint's artifact, a record or receipt naming another hash, bytes cut short.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigningKey, Wallet } from 'ethers';
import { encryptArtifact, sha256Hex } from '../crypto/artifact.js';
import { generateDataKey } from '../crypto/chunkedAead.js';
import { sealToPublicKey } from '../crypto/ecies.js';
import { canonicalJson } from '../encoding/canonicalJson.js';
import { cidOfBytes } from '../encoding/unixfs.js';
import { PiiKind } from '../schemas/anonymizationReport.js';
import type { JobModelDownload, ReceiptBody } from '../schemas/job.js';
import { codeOf } from '../../test/support/errors.js';
import { ProvenaClient } from './client.js';
import { fetchModel, openModel } from './model.js';

const JOB = '7';
const lab = new Wallet(Wallet.createRandom().privateKey);
const labPublicKey = SigningKey.computePublicKey(lab.signingKey.publicKey, true);

async function delivered(plain: Uint8Array, meta: { kind: 'model' | 'checkpoint'; jobId: string } = { kind: 'model', jobId: JOB }) {
  const key = generateDataKey();
  const ciphertext = await encryptArtifact(plain, key, meta);
  const download: JobModelDownload = {
    jobId: JOB,
    model: { objectKey: `jobs/${JOB}/model/1/model.pva`, sha256: sha256Hex(plain), bytes: plain.length, encryptedBytes: ciphertext.length },
    sealedKey: sealToPublicKey(labPublicKey, key, `provena/model/${JOB}`),
    downloadUrl: 'http://blobs.invalid/model',
    receiptCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
  };
  return { ciphertext, download };
}

const model = () => Buffer.from(Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => (i * 31) % 251));

describe('openModel', () => {
  it("opens the model with the lab's key and checks its hash against the record and the receipt", async () => {
    const plain = model();
    const { ciphertext, download } = await delivered(plain);

    const opened = await openModel({ download, ciphertext, privateKey: lab.privateKey, receipt: { model: { sha256: sha256Hex(plain), bytes: plain.length } } as ReceiptBody });

    expect(opened.equals(plain)).toBe(true);
  });

  it('refuses each tampering with its own code', async () => {
    const plain = model();
    const { ciphertext, download } = await delivered(plain);
    const flipped = Buffer.from(ciphertext);
    flipped[flipped.length - 100]! ^= 1;
    const otherJob = await delivered(plain, { kind: 'model', jobId: '8' });
    const checkpoint = await delivered(plain, { kind: 'checkpoint', jobId: JOB });
    const open = (over: Partial<Parameters<typeof openModel>[0]>) => codeOf(openModel({ download, ciphertext, privateKey: lab.privateKey, ...over }));

    expect({
      otherKey: await open({ privateKey: Wallet.createRandom().privateKey }),
      flippedByte: await open({ ciphertext: flipped }),
      cutShort: await open({ ciphertext: ciphertext.subarray(0, ciphertext.length - 1), download: { ...download, model: { ...download.model, encryptedBytes: ciphertext.length - 1 } } }),
      sizeDisagrees: await open({ ciphertext: ciphertext.subarray(0, ciphertext.length - 1) }),
      otherJob: await open({ ciphertext: otherJob.ciphertext, download: { ...download, sealedKey: otherJob.download.sealedKey } }),
      checkpoint: await open({ ciphertext: checkpoint.ciphertext, download: { ...download, sealedKey: checkpoint.download.sealedKey, model: { ...download.model, encryptedBytes: checkpoint.ciphertext.length } } }),
      recordHash: await open({ download: { ...download, model: { ...download.model, sha256: '00'.repeat(32) } } }),
      receiptHash: await open({ receipt: { model: { sha256: '11'.repeat(32), bytes: plain.length } } as ReceiptBody }),
    }).toEqual({
      otherKey: 'KEY_UNWRAP_FAILED',
      flippedByte: 'CHUNK_DIGEST_MISMATCH',
      cutShort: 'MANIFEST_MISMATCH',
      sizeDisagrees: 'MODEL_HASH_MISMATCH',
      otherJob: 'MANIFEST_MISMATCH',
      checkpoint: 'MANIFEST_MISMATCH',
      recordHash: 'MODEL_HASH_MISMATCH',
      receiptHash: 'MODEL_HASH_MISMATCH',
    });
  });
});

describe('fetchModel', () => {
  /** The API's two routes and the presigned download, answered in memory (the crypto and the checks are real). */
  async function api(plain: Uint8Array, opts: { receiptModelSha?: string; receiptSigner?: Wallet } = {}) {
    const { ciphertext, download } = await delivered(plain);
    const worker = new Wallet(Wallet.createRandom().privateKey);
    const receiptBody = fullBody({ jobId: JOB, model: { sha256: opts.receiptModelSha ?? sha256Hex(plain), bytes: plain.length }, worker: { address: worker.address } });
    const receipt = { body: receiptBody, signature: await (opts.receiptSigner ?? worker).signMessage(canonicalJson(receiptBody)) };
    const bytes = Buffer.from(canonicalJson(receipt));
    const cid = await cidOfBytes(bytes);
    const answer = { ...download, receiptCid: cid };
    const fetch = (async (input: string | URL | Request) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.endsWith(`/v1/jobs/${JOB}/model`)) return Response.json(answer);
      if (url.endsWith(`/v1/receipts/${cid}`)) return Response.json({ cid, size: bytes.length, base64: bytes.toString('base64') });
      if (url === download.downloadUrl) return new Response(ciphertext);
      return new Response('{}', { status: 404 });
    }) as typeof globalThis.fetch;
    return { client: new ProvenaClient({ baseUrl: 'http://api.invalid', chainId: 31337, fetch }), fetch };
  }

  function fullBody(b: { jobId: string; model: { sha256: string; bytes: number }; worker: { address: string } }): ReceiptBody {
    return {
      schema: 'provena.receipt/v1',
      chainId: 31337,
      licenseManager: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      jobId: b.jobId,
      licenseId: '1',
      datasets: [
        {
          datasetId: 'ds_0123456789abcdefghjkmnpqrs',
          chainDatasetId: '1',
          version: 1,
          manifestCid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
          samples: 10,
          anonymization: { schema: 'provena.anonymization-report/v1', rowsIn: 10, rowsOut: 10, rowsSuppressed: 0, planRows: 10, kAnonymity: null, columns: { dropped: [], pseudonymized: [], scannedForPii: [] }, piiCounts: Object.fromEntries(PiiKind.options.map((k) => [k, 0])) as Record<PiiKind, number> },
          anonymizationReportHash: `0x${'ab'.repeat(32)}`,
        },
      ],
      recipeHash: `0x${'cd'.repeat(32)}`,
      model: b.model,
      worker: { address: b.worker.address, mode: 'confidential-gpu', evidenceHash: `0x${'ee'.repeat(32)}`, measurement: '' },
      dp: null,
      metrics: null,
      createdAt: '2026-11-28T08:00:00.000Z',
    };
  }

  it('downloads, opens and writes the model; a receipt naming another hash or signed by another key leaves no file', async () => {
    const plain = model();
    const dir = mkdtempSync(join(tmpdir(), 'provena-model-'));
    const good = await api(plain);
    const lyingReceipt = await api(plain, { receiptModelSha: '22'.repeat(32) });
    const forged = await api(plain, { receiptSigner: new Wallet(Wallet.createRandom().privateKey) });

    const results = {
      good: await codeOf(fetchModel({ client: good.client, fetch: good.fetch, jobId: JOB, privateKey: lab.privateKey, out: join(dir, 'good.safetensors') })),
      lying: await codeOf(fetchModel({ client: lyingReceipt.client, fetch: lyingReceipt.fetch, jobId: JOB, privateKey: lab.privateKey, out: join(dir, 'lying.safetensors') })),
      forged: await codeOf(fetchModel({ client: forged.client, fetch: forged.fetch, jobId: JOB, privateKey: lab.privateKey, out: join(dir, 'forged.safetensors') })),
    };

    expect(results).toEqual({ good: 'OK', lying: 'MODEL_HASH_MISMATCH', forged: 'RECEIPT_SIGNATURE_INVALID' });
    expect(readFileSync(join(dir, 'good.safetensors')).equals(plain)).toBe(true);
    expect(readdirSync(dir)).toEqual(['good.safetensors']);
    expect(existsSync(join(dir, 'lying.safetensors'))).toBe(false);
  });
});
