/**
 * The lab's side at the end of the demo: fetch, check and decrypt the model, score it in PyTorch on held-out rows
 * (the trainer's own `load_model`/`predict`, through the project's venv), and verify the job's receipt.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Provider } from 'ethers';
import type { ProvenaClient } from '../../shared/sdk/client.js';
import { routes } from '../../shared/http/routes.js';
import { fetchModel } from '../../shared/sdk/model.js';
import { publishedManifestsFromApi, receiptChainReader, verifyReceipt, type VerifyReceiptReturnType } from '../../shared/sdk/receipt.js';
import { checkTrainerRuntime } from '../../gpu-workers/trainer/runtime.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);

/** Python that loads the model and prints predictions for rows given as JSON on argv[2] (a file). */
const SCORE_PY = `
import json, sys
from provena_trainer import load_model, predict
model, pre, recipe = load_model(sys.argv[1])
# Held-out records (objects) laid out in the training column order the preprocessor recorded.
records = json.load(open(sys.argv[2]))
rows = [[r.get(c) for c in pre.columns] for r in records]
print(json.dumps([str(p) for p in predict(model, pre, rows)]))
`;

export interface ScoreResult {
  sha256: string;
  bytes: number;
  accuracy: number;
  /** Accuracy of always answering the held-out set's most frequent label. */
  baseline: number;
}

/** Fetches and decrypts the job's model with the lab's key, then scores it on `heldOut`. */
export async function fetchAndScoreModel(p: {
  api: ProvenaClient;
  jobId: string;
  labKey: string;
  dir: string;
  heldOut: { text: string; sentiment: string }[];
}): Promise<ScoreResult> {
  const out = join(p.dir, `model-${p.jobId}.safetensors`);
  const model = await fetchModel({ client: p.api, jobId: p.jobId, privateKey: p.labKey, out });
  const rowsFile = join(p.dir, 'held-out.json');
  // Records without their label; the script lays them out in the model's column order.
  writeFileSync(rowsFile, JSON.stringify(p.heldOut.map((r) => ({ text: r.text }))));
  const runtime = checkTrainerRuntime();
  if (!runtime.ok) throw new Error(runtime.reason);
  const { stdout } = await run(runtime.python, ['-c', SCORE_PY, out, rowsFile], {
    cwd: runtime.cwd,
    env: { ...process.env, PYTHONPATH: join(ROOT, 'gpu-workers', 'trainer'), OMP_NUM_THREADS: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const predictions = JSON.parse(stdout) as string[];
  const correct = predictions.filter((y, i) => y === p.heldOut[i]!.sentiment).length;
  const counts = new Map<string, number>();
  for (const r of p.heldOut) counts.set(r.sentiment, (counts.get(r.sentiment) ?? 0) + 1);
  const majority = Math.max(...counts.values());
  return { sha256: model.sha256, bytes: model.bytes, accuracy: correct / p.heldOut.length, baseline: majority / p.heldOut.length };
}

/** Verifies a receipt by CID: bytes from the API, anchoring and approval from the chain. */
export async function verifyJobReceipt(p: { api: ProvenaClient; provider: Provider; receiptCid: string }): Promise<VerifyReceiptReturnType> {
  const health = await p.api.health();
  const stored = await p.api.call(routes.getReceipt, { params: { cid: p.receiptCid } });
  const bytes = Buffer.from(stored.base64, 'base64');
  return verifyReceipt({
    cid: p.receiptCid,
    bytes,
    chain: receiptChainReader(p.provider, health.chainId, {
      licenseManager: health.contracts.LicenseManager as string,
      attestationRegistry: health.contracts.AttestationRegistry as string,
    }),
    publishedManifests: publishedManifestsFromApi(p.api),
  });
}
