/**
 * Test helpers for the data plane: a minimal in-memory encrypted upload through the real API (presigned PUTs to
 * the embedded S3), and on-chain license purchase / job opening with the real contracts.
 */
import { Contract, id, type Signer, type Wallet } from 'ethers';
import { LicenseManager__factory, MockUSD__factory } from '../../contracts/typechain/index.js';
import { encryptStream, generateDataKey } from '../../shared/crypto/chunkedAead.js';
import { sealToPublicKey } from '../../shared/crypto/ecies.js';
import type { ProvenaClient } from '../../shared/sdk/client.js';
import type { Dataset } from '../../shared/schemas/dataset.js';
import { cipherParamsOf } from '../../shared/schemas/encryptedManifest.js';
import type { UploadSession } from '../../shared/schemas/upload.js';
import { fundedSigner, provider, stackInfo } from './stack.js';

/** The embedded stack's attestor (STACK_ATTESTOR_ACCOUNT in scripts/stack.ts): not the deployer, who is admin. */
const STACK_ATTESTOR_ACCOUNT = 2;

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Encrypts `plaintext` and uploads it as the listing's next data version; returns the listing. */
export async function uploadBytes(client: ProvenaClient, datasetId: string, plaintext: Uint8Array, chunkSize = 64 * 1024, measured?: { bytes: number; rows: number }): Promise<Dataset> {
  const gate = await client.keyGate();
  const session = await client.startUpload(datasetId, { format: 'csv', plaintextSize: plaintext.length, chunkSize });
  const key = generateDataKey();
  const enc = encryptStream(once(plaintext), { key, datasetId, version: session.dataVersion, chunkSize });
  const chunks: Buffer[] = [];
  for await (const c of enc) chunks.push(c.ciphertext);
  const parts = [];
  for (const p of session.parts) {
    const body = Buffer.concat(chunks.slice(p.firstChunk, p.firstChunk + p.chunkCount));
    const res = await fetch(p.url as string, { method: 'PUT', body });
    if (!res.ok) throw new Error(`part ${p.partNumber}: HTTP ${res.status}`);
    parts.push({ partNumber: p.partNumber, etag: (res.headers.get('etag') ?? '').replaceAll('"', '') });
  }
  const summary = enc.summary();
  return client.completeUpload(datasetId, session.uploadId, {
      parts,
      cipher: cipherParamsOf(summary),
      chunks: summary.chunks.map((c) => ({ ciphertextSize: c.ciphertextSize, sha256: c.sha256 })),
      sealedDataKey: sealToPublicKey(gate.publicKey, key, session.keyContext),
      ...(measured ? { measured } : {}),
  });
}

/** The stack's LicenseManager, connected to `signer`. */
export function licenseManager(signer: Signer) {
  return LicenseManager__factory.connect(stackInfo().deployment.contracts.LicenseManager as string, signer);
}

/** Seconds on the chain's clock (its latest block). */
export async function chainNow(): Promise<number> {
  return (await provider().getBlock('latest'))?.timestamp ?? Math.floor(Date.now() / 1000);
}

/**
 * Buys a license for `chainDatasetIds` from dev account `labIndex` and returns its id and the lab's signer.
 * Mints MockUSD for the budget first.
 */
export async function buyLicense(labIndex: number, chainDatasetIds: string[], options: { budget?: bigint; expiresIn?: number } = {}) {
  const lab = fundedSigner(labIndex);
  const labAddress = await lab.getAddress();
  const budget = options.budget ?? 10_000_000n;
  const token = MockUSD__factory.connect(stackInfo().deployment.contracts.PaymentToken as string, lab);
  await (await token.mint(labAddress, budget)).wait();
  const lm = licenseManager(lab);
  await (await token.approve(await lm.getAddress(), budget)).wait();
  const expiry = (await chainNow()) + (options.expiresIn ?? 30 * 24 * 3600);
  // No price cap (the listing's price is accepted as the chain holds it): type(uint96).max per dataset.
  const tx = await lm.purchase(chainDatasetIds.map(BigInt), chainDatasetIds.map(() => 2n ** 96n - 1n), budget, expiry);
  const receipt = await tx.wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = lm.interface.parseLog(log);
    if (parsed?.name === 'LicensePurchased') return { licenseId: (parsed.args[0] as bigint).toString(), lab, labAddress, expiry };
  }
  throw new Error('no LicensePurchased event');
}

/** Opens a job on a license (as the lab) and approves `worker` for it (as the stack's attestor, dev account 2). */
export async function openAttestedJob(lab: Signer, licenseId: string, worker: string): Promise<string> {
  const lm = licenseManager(lab);
  const receipt = await (await lm.openJob(BigInt(licenseId), 1_000_000n, 1_000_000n)).wait();
  let jobId: string | undefined;
  for (const log of receipt?.logs ?? []) {
    const parsed = lm.interface.parseLog(log);
    if (parsed?.name === 'JobOpened') jobId = (parsed.args[0] as bigint).toString();
  }
  if (!jobId) throw new Error('no JobOpened event');
  const attestor = fundedSigner(STACK_ATTESTOR_ACCOUNT);
  const registry = new Contract(
    stackInfo().deployment.contracts.AttestationRegistry as string,
    ['function approveWorker(uint256 jobId, address worker, bytes32 evidenceHash)'],
    attestor,
  );
  // A test stands in for the API's verifier here: the evidence hash names what a real attestor would have verified.
  await (await registry.getFunction('approveWorker')(BigInt(jobId), worker, id(`test evidence for job ${jobId}`))).wait();
  return jobId;
}

/** A wallet as the SDK's fetch expects (ethers Wallet with a signing key). */
export type KeyWallet = Wallet;
