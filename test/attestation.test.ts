/**
 * Attested workers on the embedded stack (issue 10, trust and key release): a worker asks for a nonce, posts
 * evidence binding its key, and the API approves the key on the AttestationRegistry only after the evidence
 * verified under every dataset's policy; the key gate then releases data keys for the job while it is open.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import { AttestationRegistry__factory } from '../contracts/typechain/index.js';
import { createDynamoClient } from '../shared/adapters/aws/dynamo.js';
import { DynamoAttestationNonces } from '../shared/adapters/aws/DynamoAttestationNonces.js';
import { EvmJobAttestations } from '../shared/adapters/chain/EvmJobAttestations.js';
import { LocalUnixfsContentStore } from '../shared/adapters/ipfs/LocalUnixfsContentStore.js';
import { generateP384, issueCertificate } from '../shared/attestation/certIssuer.js';
import { devPcrs, DevAttestor, signNitroDocument } from '../shared/attestation/devAttestor.js';
import { AttestationPolicy, type EvidenceBundle } from '../shared/attestation/types.js';
import { BUILTIN_VERIFIERS } from '../shared/attestation/verifiers.js';
import { routes } from '../shared/http/routes.js';
import { fetchDataset, requestDataKey } from '../shared/sdk/fetchData.js';
import type { Dataset } from '../shared/schemas/dataset.js';
import { attestWorker } from '../shared/use-cases/attestWorker.js';
import { buyLicense, licenseManager, uploadBytes } from './support/data.js';
import { codeOf } from './support/errors.js';
import { listing } from './support/fixtures.js';
import { clientFor, newWallet, provider, stackInfo } from './support/stack.js';

const dir = mkdtempSync(join(tmpdir(), 'provena-attn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CSV = Buffer.from(Array.from({ length: 500 }, (_, i) => `${i},${20 + (i % 50)},${(i * 7) % 1000}`).join('\n'));
const publicApi = () => clientFor();

function registry() {
  return AttestationRegistry__factory.connect(stackInfo().deployment.contracts.AttestationRegistry as string, provider());
}

async function openJob(lab: Parameters<typeof licenseManager>[0], licenseId: string): Promise<string> {
  const lm = licenseManager(lab);
  const receipt = await (await lm.openJob(BigInt(licenseId), 1_000_000n, 1_000_000n)).wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = lm.interface.parseLog(log);
    if (parsed?.name === 'JobOpened') return (parsed.args[0] as bigint).toString();
  }
  throw new Error('no JobOpened event');
}

const nonceFor = async (jobId: string) => (await publicApi().call(routes.issueAttestationNonce, { params: { jobId } })).nonce;
const attest = (jobId: string, body: { evidence: EvidenceBundle; workerPublicKey: string; nonce: string }) => publicApi().call(routes.attestWorker, { params: { jobId }, body });

describe('attested workers', () => {
  const owner = newWallet();
  const api = clientFor(owner);
  let data: Dataset; // any worker mode
  let gpuOnly: Dataset; // workerModes: confidential-gpu only
  let jobId: string;
  let gpuOnlyJobId: string;
  let lab: Awaited<ReturnType<typeof buyLicense>>['lab'];
  let attestor: DevAttestor;

  beforeAll(async () => {
    data = await api.registerDataset((await api.createDataset(listing(owner.address, { title: 'Attested rows' }))).id);
    data = await uploadBytes(api, data.id, CSV);
    const terms = listing(owner.address).license;
    gpuOnly = await api.registerDataset((await api.createDataset(listing(owner.address, { title: 'GPU TEE only', license: { ...terms, workerModes: ['confidential-gpu'] } }))).id);
    const bought = await buyLicense(16, [data.chainDatasetId as string]);
    lab = bought.lab;
    jobId = await openJob(lab, bought.licenseId);
    const gpuLicense = await buyLicense(17, [gpuOnly.chainDatasetId as string]);
    gpuOnlyJobId = await openJob(gpuLicense.lab, gpuLicense.licenseId);
    await nonceFor(jobId); // the API creates the development root on first use; the worker's attestor shares it
    attestor = DevAttestor.open(stackInfo().dataDir, { now: new Date() });
  }, 120_000);

  it('approves a worker key with development evidence for an open job, records the evidence hash, and the gate then releases its key', async () => {
    const worker = Wallet.createRandom();
    const nonce = await nonceFor(jobId);
    const evidence = attestor.bundle({ nonce, publicKey: worker.signingKey.publicKey, now: new Date() });

    const result = await attest(jobId, { evidence, workerPublicKey: worker.signingKey.publicKey, nonce });

    expect(result).toMatchObject({ jobId, worker: worker.address, mode: 'nitro' });
    expect(await registry().isApproved(BigInt(jobId), worker.address)).toBe(true);
    expect(await registry().evidenceOf(BigInt(jobId), worker.address)).toBe(result.evidenceHash);
    const tx = await provider().getTransaction(result.txHash);
    expect(tx?.from).toBe(new Wallet((await import('../stack/embeddedChain.js')).devAccountKey(2)).address);
    const out = join(dir, 'worker.csv');
    const w = new Wallet(worker.privateKey);
    expect(await fetchDataset(clientFor(w), w, data.id, { grant: { type: 'job', jobId }, out })).toBe(CSV.length);
    expect(readFileSync(out).equals(CSV)).toBe(true);
  });

  describe('refuses, and approves nothing,', () => {
    it('debug-mode evidence (the real Nitro document, at the instant it verifies) under a production policy', async () => {
      const worker = Wallet.createRandom();
      const info = stackInfo();
      const dynamo = createDynamoClient({ region: 'us-east-1', endpoint: info.dynamodbEndpoint });
      const policy = AttestationPolicy.parse({ production: true, kinds: ['nitro'], modes: ['nitro'], maxAgeSeconds: 300, measurements: { nitro: [{ PCR0: 'ab'.repeat(48) }] } });
      const document = readFileSync(join(process.cwd(), '../shared/fixtures/nitro/aws-nitro-debug-2024-09-06.b64'), 'utf8').trim();
      const deps = {
        jobs: new EvmJobAttestations(provider(), { licenseManager: info.deployment.contracts.LicenseManager as string, datasetRegistry: info.deployment.contracts.DatasetRegistry as string, attestationRegistry: info.deployment.contracts.AttestationRegistry as string }, undefined),
        nonces: new DynamoAttestationNonces(dynamo, 'provena-nonces'),
        content: new LocalUnixfsContentStore({ dir: info.ipfsDir }),
        policy: () => policy,
        verifiers: BUILTIN_VERIFIERS,
        now: () => new Date('2024-09-06T04:33:13Z'),
      };
      const input = { evidence: { kind: 'nitro' as const, documents: { document } }, workerPublicKey: worker.signingKey.publicKey, nonce: 'cd'.repeat(32) };

      expect(await codeOf(attestWorker(deps, { jobId, input }))).toBe('ATTESTATION_DEBUG_REFUSED');
      expect(await registry().isApproved(BigInt(jobId), worker.address)).toBe(false);
      dynamo.destroy();
    });

    it('evidence under a foreign root (a Nitro document whose chain ends at a root no policy pins)', async () => {
      const worker = Wallet.createRandom();
      const nonce = await nonceFor(jobId);
      const now = new Date();
      const root = generateP384();
      const rootDer = issueCertificate({ subject: 'Foreign Enclave Root', subjectPublicKey: root.publicKey, issuer: 'Foreign Enclave Root', issuerPrivateKey: root.privateKey, notBefore: new Date(now.getTime() - 3_600_000), notAfter: new Date(now.getTime() + 3_600_000), ca: {} });
      const leaf = generateP384();
      const leafDer = issueCertificate({ subject: 'foreign-enclave', subjectPublicKey: leaf.publicKey, issuer: 'Foreign Enclave Root', issuerPrivateKey: root.privateKey, notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 3_600_000) });
      const document = signNitroDocument({ moduleId: 'foreign', timestamp: now, pcrs: devPcrs(), certificate: leafDer, cabundle: [rootDer], nonce: Buffer.from(nonce, 'hex'), publicKey: Buffer.from(worker.signingKey.publicKey.slice(2), 'hex') }, leaf.privateKey);
      const evidence: EvidenceBundle = { kind: 'nitro', documents: { document: document.toString('base64') } };

      expect(await codeOf(attest(jobId, { evidence, workerPublicKey: worker.signingKey.publicKey, nonce }))).toBe('ATTESTATION_ROOT_UNTRUSTED');
      expect(await registry().isApproved(BigInt(jobId), worker.address)).toBe(false);
    });

    it("evidence from another stack's development attestor (its root is not this stack's)", async () => {
      const worker = Wallet.createRandom();
      const nonce = await nonceFor(jobId);
      const foreign = DevAttestor.open(join(dir, 'foreign-root'), { now: new Date() });
      const evidence = foreign.bundle({ nonce, publicKey: worker.signingKey.publicKey, now: new Date() });

      expect(await codeOf(attest(jobId, { evidence, workerPublicKey: worker.signingKey.publicKey, nonce }))).toBe('ATTESTATION_DEV_ROOT_REFUSED');
      expect(await registry().isApproved(BigInt(jobId), worker.address)).toBe(false);
    });

    it('a replayed nonce (already consumed by another worker\'s approval)', async () => {
      const first = Wallet.createRandom();
      const nonce = await nonceFor(jobId);
      await attest(jobId, { evidence: attestor.bundle({ nonce, publicKey: first.signingKey.publicKey, now: new Date() }), workerPublicKey: first.signingKey.publicKey, nonce });
      const second = Wallet.createRandom();
      const evidence = attestor.bundle({ nonce, publicKey: second.signingKey.publicKey, now: new Date() });

      expect(await codeOf(attest(jobId, { evidence, workerPublicKey: second.signingKey.publicKey, nonce }))).toBe('ATTESTATION_NONCE_REUSED');
      expect(await registry().isApproved(BigInt(jobId), second.address)).toBe(false);
    });

    it('evidence bound to another key, without burning the nonce', async () => {
      const bound = Wallet.createRandom();
      const claimed = Wallet.createRandom();
      const nonce = await nonceFor(jobId);
      const evidence = attestor.bundle({ nonce, publicKey: bound.signingKey.publicKey, now: new Date() });

      expect(await codeOf(attest(jobId, { evidence, workerPublicKey: claimed.signingKey.publicKey, nonce }))).toBe('ATTESTATION_KEY_NOT_BOUND');
      expect(await registry().isApproved(BigInt(jobId), claimed.address)).toBe(false);
      expect(await registry().isApproved(BigInt(jobId), bound.address)).toBe(false);
      const honest = await attest(jobId, { evidence: attestor.bundle({ nonce, publicKey: claimed.signingKey.publicKey, now: new Date() }), workerPublicKey: claimed.signingKey.publicKey, nonce });
      expect(honest.worker).toBe(claimed.address);
    });

    it('Nitro-mode evidence for a job over a listing that allows only confidential-GPU workers', async () => {
      const worker = Wallet.createRandom();
      const nonce = await nonceFor(gpuOnlyJobId);
      const evidence = attestor.bundle({ nonce, publicKey: worker.signingKey.publicKey, now: new Date() });

      expect(await codeOf(attest(gpuOnlyJobId, { evidence, workerPublicKey: worker.signingKey.publicKey, nonce }))).toBe('ATTESTATION_MODE_REFUSED');
      expect(await registry().isApproved(BigInt(gpuOnlyJobId), worker.address)).toBe(false);
    });

    it('a nonce for a job that does not exist', async () => {
      expect(await codeOf(nonceFor('999999'))).toBe('JOB_NOT_ACTIVE');
    });
  });

  it('releases no more keys, nonces or approvals once the lab ended the job', async () => {
    const worker = Wallet.createRandom();
    const nonce = await nonceFor(jobId);
    await attest(jobId, { evidence: attestor.bundle({ nonce, publicKey: worker.signingKey.publicKey, now: new Date() }), workerPublicKey: worker.signingKey.publicKey, nonce });
    const late = Wallet.createRandom();
    const lateNonce = await nonceFor(jobId);
    const w = new Wallet(worker.privateKey);
    const grant = { type: 'job' as const, jobId };

    await (await licenseManager(lab).endJob(BigInt(jobId))).wait();

    expect(await codeOf(requestDataKey(clientFor(w), w, stackInfo().chainId, data.id, data.data?.version ?? 1, grant))).toBe('JOB_NOT_ACTIVE');
    expect(await codeOf(nonceFor(jobId))).toBe('JOB_NOT_ACTIVE');
    const evidence = attestor.bundle({ nonce: lateNonce, publicKey: late.signingKey.publicKey, now: new Date() });
    expect(await codeOf(attest(jobId, { evidence, workerPublicKey: late.signingKey.publicKey, nonce: lateNonce }))).toBe('JOB_NOT_ACTIVE');
    expect(await registry().isApproved(BigInt(jobId), late.address)).toBe(false);
  });
});
